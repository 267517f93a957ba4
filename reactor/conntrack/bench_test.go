package conntrack

import "testing"

func BenchmarkTrackedPacket(b *testing.B) {
	tbl := New(DefaultSize)
	frame := tcpFrame(a4, b4, 40000, 80, FlagACK)
	var f Flow
	ParseFlow(frame, &f)
	k := f.Key(true)
	tbl.Insert(&k, true, sec).Seen(true, FlagACK, sec)
	b.ReportAllocs()
	for b.Loop() {
		ParseFlow(frame, &f)
		k := f.Key(true)
		if e := tbl.Lookup(&k, sec); e != nil {
			e.Seen(true, f.TCPFlags, sec)
		}
	}
}

func BenchmarkParseFlow(b *testing.B) {
	frame := tcpFrame(a4, b4, 40000, 80, FlagACK)
	var f Flow
	for b.Loop() {
		ParseFlow(frame, &f)
	}
}
