# vfs_common.tcl -- helpers shared by the vfs*.test files (the membase VFS).
# Sourced after tester.tcl.
#
#   vfs_uri PATH VFS ?PARAMS?    "file:PATH?vfs=VFS&PARAMS"
#   vfs_open NAME PATH VFS ?PARAMS?
#                                open connection NAME on PATH through VFS
#                                ("unix" for stock SQLite) with URIs on
#   vfs_stat DB KEY              one field of DB's PRAGMA membase_stats
#   vfs_delete PATH              delete PATH and its -journal, -wal, -shm
#   vfs_fill DB N ?SIZE?         create t(a INTEGER PRIMARY KEY, b) with N
#                                rows: b = 'a:' then SIZE times one letter
#                                (A..Z by a)
#   vfs_sum DB                   a checksum of t's content (4 numbers)
#   vfs_child NAME BODY          write the child script NAME.tcl in the
#                                test dir: the prelude (package sqlite3,
#                                MemBase loaded into connection mb, then
#                                argv in ::A) and BODY; returns its path
#   vfs_run SCRIPT ARGS...       run a child tclsh, return its stdout
#   vfs_spawn SCRIPT ARGS...     start a child tclsh, return the channel
#                                reading its stdout (pid: [pid $chan])
#   vfs_under_asan               1 if the module is run under ASan (LD_PRELOAD)

proc vfs_uri {path vfs {params ""}} {
  set u "file:$path?vfs=$vfs"
  if {$params ne ""} { append u "&$params" }
  return $u
}

proc vfs_open {name path vfs {params ""}} {
  uplevel #0 [list sqlite3 $name [vfs_uri $path $vfs $params] -uri 1]
}

proc vfs_stat {dbname key} {
  set j [$dbname one {PRAGMA membase_stats}]
  $dbname one {SELECT json_extract($j, '$.' || $key)}
}

proc vfs_delete {path} {
  foreach suffix {"" -journal -wal -shm} {
    file delete -force $path$suffix
  }
}

proc vfs_fill {dbname n {size 100}} {
  $dbname eval {
    CREATE TABLE IF NOT EXISTS t(a INTEGER PRIMARY KEY, b);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < CAST($n AS INTEGER))
    INSERT INTO t(a, b)
      SELECT i, printf('%d:%.*c', i, CAST($size AS INTEGER), char(65 + i % 26)) FROM c;
  }
}

proc vfs_sum {dbname} {
  $dbname eval {
    SELECT count(*), total(a), total(length(b)),
           total(a * unicode(substr(b, -1))) FROM t
  }
}

set ::vfs_prelude {
  package require sqlite3
  set ::A $argv
  sqlite3 mb :memory:
  mb enable_load_extension 1
  mb eval { SELECT load_extension($::env(MEMBASE_EXT)) }
  proc uri {path vfs {params ""}} {
    set u "file:$path?vfs=$vfs"
    if {$params ne ""} { append u "&$params" }
    return $u
  }
}

proc vfs_child {name body} {
  set path [file join $::testdir $name.tcl]
  set fd [open $path w]
  puts $fd $::vfs_prelude
  puts $fd $body
  close $fd
  return $path
}

proc vfs_run {script args} {
  exec {*}[mb_tclsh] $script {*}$args
}

proc vfs_spawn {script args} {
  set chan [open |[list {*}[mb_tclsh] $script {*}$args 2>@1] r]
  fconfigure $chan -buffering line
  return $chan
}

proc vfs_under_asan {} {
  expr {[info exists ::env(LD_PRELOAD)] && [string match *asan* $::env(LD_PRELOAD)]}
}
