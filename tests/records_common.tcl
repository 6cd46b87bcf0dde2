# records_common.tcl -- helpers shared by tests/records*.test: record files
# of the "ticks" layout, .npy files built by hand, and numpy when present.

# The layout of the ticks files (32 bytes per record).
set ::TICKS_LAYOUT {ts i64, price f64, qty i32, side u8, _ pad(3), sym char(8)}

# One ticks record: ts = 10*i, price = i/2, qty = i, side = i%2, sym SYMi%7.
proc tick_record {i} {
  binary format wqicx3a8 [expr {$i*10}] [expr {$i*0.5}] $i [expr {$i%2}] \
      "SYM[expr {$i%7}]"
}

# Write N ticks records (0..N-1) to PATH, replacing it.
proc write_ticks {path n} {
  set fd [open $path wb]
  for {set i 0} {$i < $n} {incr i} {
    puts -nonewline $fd [tick_record $i]
  }
  close $fd
}

# Write raw bytes.
proc write_bytes {path bytes} {
  set fd [open $path wb]
  puts -nonewline $fd $bytes
  close $fd
}

proc read_bytes {path} {
  set fd [open $path rb]
  set b [read $fd]
  close $fd
  return $b
}

# A .npy file: version VER (1, 2 or 3), header dict TEXT, then DATA. The
# header is padded to a multiple of 64 bytes as numpy does.
proc write_npy {path text data {ver 1}} {
  set pre [expr {$ver == 1 ? 10 : 12}]
  set len [expr {$pre + [string length $text] + 1}]
  set pad [expr {(64 - $len % 64) % 64}]
  set hdr "$text[string repeat { } $pad]\n"
  if {$ver == 1} {
    set lenb [binary format s [string length $hdr]]
  } else {
    set lenb [binary format i [string length $hdr]]
  }
  write_bytes $path "\x93NUMPY[binary format cc $ver 0]$lenb$hdr$data"
}

# The command (a list) that runs the python3 that has numpy (Debian's),
# or "". The sanitizer runtime preloaded into tclsh is not passed on.
proc numpy_python {} {
  foreach py {/usr/bin/python3 python3} {
    set cmd [list env -u LD_PRELOAD $py]
    if {![catch {exec {*}$cmd -c {import numpy} 2>@1}]} { return $cmd }
  }
  return ""
}

proc create_ticks {name path args} {
  set opts [list "file='$path'" "layout='$::TICKS_LAYOUT'" {*}$args]
  execsql "CREATE VIRTUAL TABLE $name USING membase([join $opts {, }])"
}

# 1 if the journal at path is absent or empty: what a connection that has
# committed leaves (it keeps an empty journal for its next commit and
# deletes it when it closes; docs/TRANSACTIONS.md).
proc journal_inert {path} {
  expr {![file exists $path] || [file size $path] == 0}
}
