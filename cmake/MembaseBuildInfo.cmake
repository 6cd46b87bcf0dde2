# MembaseBuildInfo.cmake -- what membase_debug() says of the build, written
# at configure time into ${CMAKE_BINARY_DIR}/generated/mb_build_info.h,
# which only ext/mb_debug.c includes (a change recompiles that file alone).
#
#   MB_BUILD_COMMIT  `git rev-parse --short=12 HEAD` of the source tree, with
#                    "-dirty" when `git status --porcelain
#                    --untracked-files=no` lists a change; "unknown" outside
#                    git (a tarball) or without git
#   MB_BUILD_DATE    UTC, ISO 8601; CMake's string(TIMESTAMP) takes
#                    SOURCE_DATE_EPOCH from the environment when it is set
#                    (reproducible builds)
#
# Refreshed when CMake configures. A commit or a checkout moves HEAD or the
# branch's ref file, which are configure dependencies, so the next build
# reconfigures by itself; editing files (the -dirty mark) does not: run
# cmake again to refresh it.
set(MB_BUILD_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  # Only a checkout of MemBase itself: a tarball unpacked inside another
  # project's repository is not that project's commit.
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} rev-parse --show-toplevel
                  OUTPUT_VARIABLE mb_top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE mb_head OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE mb_rc ERROR_QUIET)
  file(REAL_PATH "${CMAKE_SOURCE_DIR}" mb_src)
  if(NOT mb_top STREQUAL "")
    file(REAL_PATH "${mb_top}" mb_top)
  endif()
  if(mb_rc EQUAL 0 AND mb_head MATCHES "^[0-9a-f]+$" AND mb_top STREQUAL mb_src)
    set(MB_BUILD_COMMIT ${mb_head})
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE mb_dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT mb_dirty STREQUAL "")
      string(APPEND MB_BUILD_COMMIT "-dirty")
    endif()
    # Reconfigure when HEAD moves: HEAD itself (a checkout) and the ref it
    # names (a commit). A packed ref has no file of its own: packed-refs.
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} symbolic-ref -q HEAD
                    OUTPUT_VARIABLE mb_refname OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    foreach(mb_ref HEAD packed-refs ${mb_refname})
      execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} rev-parse --path-format=absolute --git-path ${mb_ref}
                      OUTPUT_VARIABLE mb_path OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(EXISTS "${mb_path}")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${mb_path}")
      endif()
    endforeach()
  endif()
endif()
string(TIMESTAMP MB_BUILD_DATE "%Y-%m-%dT%H:%M:%SZ" UTC)
if(CMAKE_CONFIGURATION_TYPES)
  set(MB_BUILD_TYPE "multi-config")
else()
  set(MB_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
endif()
set(MB_BUILD_SANITIZERS "none")
if(MEMBASE_SANITIZE)
  set(MB_BUILD_SANITIZERS "address,undefined")
elseif(MEMBASE_TSAN)
  set(MB_BUILD_SANITIZERS "thread")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/mb_build_info.h.in
               ${CMAKE_BINARY_DIR}/generated/mb_build_info.h @ONLY)
