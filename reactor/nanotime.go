package reactor

import "time"

// start anchors nanotime.
var start = time.Now()

// nanotime is a monotonic clock in nanoseconds, cheap enough for the path
// that decides whether a full inbox may still hold a TX ring back.
func nanotime() int64 { return int64(time.Since(start)) }
