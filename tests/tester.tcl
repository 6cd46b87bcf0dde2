# tester.tcl -- the MemBase Tcl test harness, in the style of SQLite's own.
#
# A test file sources this file, runs a series of tests and ends with
# finish_test:
#
#     source [file join [file dirname [info script]] tester.tcl]
#     do_execsql_test functions-1.1 { SELECT membase_version() } {0.1.0}
#     do_catchsql_test functions-1.2 { SELECT membase_map(NULL) } \
#         {1 {membase_map: path is NULL}}
#     finish_test
#
# Environment (set by ctest; see tests/CMakeLists.txt):
#   MEMBASE_EXT      path of the built loadable module (membase.so)
#   MEMBASE_TESTDIR  scratch directory; each test file works in its own
#                    subdirectory <MEMBASE_TESTDIR>/<file name>, emptied at
#                    start, so test files may run in parallel
#   MEMBASE_SRCDIR   the source tree (optional)
#   MEMBASE_EMULATOR set in a cross build (tests/scripts/arm64.sh): the
#                    command, split on spaces, that runs a program of the
#                    target, e.g. "qemu-aarch64-static -L <sysroot>"; child
#                    processes are started through it (mb_tclsh)
#
# On start-up the harness opens the connection `db` on the scratch database
# file $::testdb, enables extension loading and loads MEMBASE_EXT into it.
# Loading installs MemBase as an automatic extension, so every connection the
# test opens afterwards has the MemBase functions and tables too.
#
# Commands
#   do_test NAME SCRIPT EXPECTED   evaluate SCRIPT at global level; the test
#                                  passes if the result equals EXPECTED, or,
#                                  when EXPECTED is written /RE/, if the
#                                  result matches the regular expression RE
#   do_execsql_test NAME SQL EXPECTED   do_test of [execsql SQL]
#   do_catchsql_test NAME SQL EXPECTED  do_test of [catchsql SQL]; EXPECTED
#                                  is {0 RESULT} or {1 {exact message}}
#   do_eqp_test NAME SQL EXPECTED  do_test of the EXPLAIN QUERY PLAN details
#                                  of SQL, one list element per plan line
#   execsql SQL ?DB?               run SQL, return every value as a flat list
#                                  (NULL is the empty string)
#   catchsql SQL ?DB?              {0 RESULT} on success, {1 MESSAGE} on error
#   reset_db                       close db, delete $::testdb, reopen it and
#                                  load the extension again
#   load_membase DB                load MEMBASE_EXT into connection DB
#   skip_test NAME REASON          record a skipped test, printing REASON
#   write_file PATH NBYTES         create PATH holding NBYTES bytes (a fixed
#                                  pattern), replacing any earlier file
#   append_file PATH NBYTES        add NBYTES bytes to the end of PATH
#   unprivileged_mode              how this process can test what an
#                                  unprivileged user sees: "self" (not root:
#                                  permissions already apply to us), "child"
#                                  (root: run a child tclsh as nobody with
#                                  setpriv or su) or "" (cannot)
#   catchsql_unprivileged SQL...   run each SQL on a fresh :memory:
#                                  connection with MemBase loaded, without
#                                  privileges (see unprivileged_mode); returns
#                                  one {rc result} per SQL, like catchsql
#   mb_tclsh                       the command (a list) that starts a child
#                                  tclsh: [info nameofexecutable], after
#                                  MEMBASE_EMULATOR in a cross build
#   mb_sqlite3                     the same for the sqlite3 shell of the
#                                  target (the sysroot's, under the emulator)
#   mb_cross_build                 1 in a cross build: programs of the host
#                                  (python3) cannot load the module there
#   finish_test                    close db, print "N passed, N failed" alone
#                                  on a line and exit 1 if any test failed
#
# Output: one line "NAME... Ok" per passing test; a failing test prints
#   ! NAME expected: [...]
#   ! NAME got:      [...]
# and the closing lines list the failed names.

package require sqlite3

proc mb_abort {msg} {
  puts stderr "tester.tcl: $msg"
  exit 1
}

if {![info exists ::env(MEMBASE_EXT)] || $::env(MEMBASE_EXT) eq ""} {
  mb_abort "MEMBASE_EXT is not set: it must name the built membase module"
}
if {![file exists $::env(MEMBASE_EXT)]} {
  mb_abort "MEMBASE_EXT names \"$::env(MEMBASE_EXT)\", which does not exist"
}
set ::membase_ext [file normalize $::env(MEMBASE_EXT)]
set ::env(MEMBASE_EXT) $::membase_ext   ;# for child processes in other dirs

# The scratch directory of this test file: <MEMBASE_TESTDIR>/<file name>.
set ::testname [file rootname [file tail [info script]]]
if {[info exists ::argv0] && [string match *.test $::argv0]} {
  set ::testname [file rootname [file tail $::argv0]]
}
if {[info exists ::env(MEMBASE_TESTDIR)] && $::env(MEMBASE_TESTDIR) ne ""} {
  set ::testroot [file normalize $::env(MEMBASE_TESTDIR)]
} else {
  set ::testroot [file normalize [file join [pwd] testdir]]
}
set ::testdir [file join $::testroot $::testname]
file delete -force $::testdir
file mkdir $::testdir
set ::testdb [file join $::testdir test.db]

set ::srcdir ""
if {[info exists ::env(MEMBASE_SRCDIR)]} { set ::srcdir $::env(MEMBASE_SRCDIR) }

# Child processes of a cross build run through the emulator: the tclsh
# running this file is the target's, and so is the module.
set ::mb_emulator {}
if {[info exists ::env(MEMBASE_EMULATOR)]} {
  set ::mb_emulator [regexp -all -inline {\S+} $::env(MEMBASE_EMULATOR)]
}
proc mb_tclsh {} {
  concat $::mb_emulator [list [info nameofexecutable]]
}
proc mb_cross_build {} {
  expr {[llength $::mb_emulator] > 0}
}
proc mb_sqlite3 {} {
  set i [lsearch -exact $::mb_emulator -L]
  if {$i < 0} { return [concat $::mb_emulator sqlite3] }
  set root [lindex $::mb_emulator [expr {$i + 1}]]
  concat $::mb_emulator [list [file join $root usr bin sqlite3]]
}

set ::nPass 0
set ::nFail 0
set ::nSkip 0
set ::failList {}

proc load_membase {dbname} {
  $dbname enable_load_extension 1
  $dbname eval { SELECT load_extension($::membase_ext) }
}

proc reset_db {} {
  catch { db close }
  foreach suffix {"" -journal -wal -shm} {
    file delete -force $::testdb$suffix
  }
  sqlite3 db $::testdb
  load_membase db
}

proc execsql {sql {dbname db}} {
  uplevel #0 [list $dbname eval $sql]
}

proc catchsql {sql {dbname db}} {
  set rc [catch { uplevel #0 [list $dbname eval $sql] } res]
  list $rc $res
}

# An expectation written /RE/ is a regular expression.
proc mb_is_regexp {expected} {
  expr {[string length $expected] >= 2
        && [string index $expected 0] eq "/"
        && [string index $expected end] eq "/"}
}

# Compare a result with an expectation: exact, or /regexp/.
proc mb_matches {expected got} {
  if {[mb_is_regexp $expected]} {
    return [regexp -- [string range $expected 1 end-1] $got]
  }
  return [expr {$expected eq $got}]
}

proc do_test {name script expected} {
  puts -nonewline "$name... "
  flush stdout
  set rc [catch { uplevel #0 $script } got]
  if {$rc == 1} {
    set got "TCL ERROR: $got"
  }
  if {$rc != 1 && [mb_matches $expected $got]} {
    incr ::nPass
    puts "Ok"
  } else {
    incr ::nFail
    lappend ::failList $name
    puts "FAILED"
    puts "! $name expected: \[$expected\]"
    puts "! $name got:      \[$got\]"
  }
}

# Expected results of the SQL tests are written as Tcl lists, possibly over
# several lines: compare them in canonical list form.
proc mb_canonical {expected} {
  if {![mb_is_regexp $expected] && [string is list $expected]} {
    return [list {*}$expected]
  }
  return $expected
}

proc do_execsql_test {name sql expected} {
  do_test $name [list execsql $sql] [mb_canonical $expected]
}

proc do_catchsql_test {name sql expected} {
  do_test $name [list catchsql $sql] [mb_canonical $expected]
}

proc do_eqp_test {name sql expected {dbname db}} {
  set script [list mb_eqp $sql $dbname]
  do_test $name $script $expected
}

proc mb_eqp {sql dbname} {
  set res {}
  $dbname eval "EXPLAIN QUERY PLAN $sql" {
    lappend res $detail
  }
  return $res
}

proc skip_test {name reason} {
  incr ::nSkip
  puts "$name... SKIPPED: $reason"
}

proc write_file {path nbytes} {
  set fd [open $path wb]
  if {$nbytes > 0} {
    puts -nonewline $fd [string range [string repeat 0123456789abcdef \
        [expr {$nbytes / 16 + 1}]] 0 [expr {$nbytes - 1}]]
  }
  close $fd
}

proc append_file {path nbytes} {
  set fd [open $path ab]
  puts -nonewline $fd [string repeat z $nbytes]
  close $fd
}

# How to run something as an unprivileged user, worked out once.
proc unprivileged_mode {} {
  if {[info exists ::mb_unpriv_mode]} { return $::mb_unpriv_mode }
  set ::mb_unpriv_mode ""
  set ::mb_unpriv_prefix {}
  if {[exec id -u] != 0} {
    set ::mb_unpriv_mode self
  } elseif {![catch {exec setpriv --reuid=65534 --regid=65534 --clear-groups true}]} {
    set ::mb_unpriv_mode child
    set ::mb_unpriv_prefix {setpriv --reuid=65534 --regid=65534 --clear-groups}
  } elseif {![catch {exec su nobody -s /bin/sh -c true}]} {
    set ::mb_unpriv_mode child
    set ::mb_unpriv_prefix su
  }
  return $::mb_unpriv_mode
}

proc catchsql_unprivileged {args} {
  switch -- [unprivileged_mode] {
    self {
      sqlite3 mb_unpriv_db :memory:
      set res {}
      foreach sql $args {
        lappend res [catchsql $sql mb_unpriv_db]
      }
      mb_unpriv_db close
      return $res
    }
    child {
      # The child loads MEMBASE_EXT itself (it is a fresh process).
      set script [file join $::testdir unprivileged_child.tcl]
      set fd [open $script w]
      puts $fd {
        package require sqlite3
        sqlite3 db :memory:
        db enable_load_extension 1
        db eval { SELECT load_extension($::env(MEMBASE_EXT)) }
        set res {}
        foreach sql $argv {
          lappend res [list [catch { db eval $sql } r] $r]
        }
        db close
        puts $res
      }
      close $fd
      file attributes $script -permissions 0644
      set cmd [list {*}[mb_tclsh] $script {*}$args]
      if {$::mb_unpriv_prefix eq "su"} {
        set quoted {}
        foreach w $cmd {
          lappend quoted "'[string map {' '\\''} $w]'"
        }
        return [exec su nobody -s /bin/sh -c [join $quoted " "]]
      }
      return [exec {*}$::mb_unpriv_prefix {*}$cmd]
    }
  }
  error "no way to run without privileges"
}

proc finish_test {} {
  catch { db close }
  if {$::nSkip > 0} {
    puts "$::nSkip skipped"
  }
  if {$::nFail > 0} {
    puts "Failures: $::failList"
  }
  puts "$::nPass passed, $::nFail failed"
  flush stdout
  exit [expr {$::nFail > 0 ? 1 : 0}]
}

reset_db
