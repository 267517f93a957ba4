package inbox

import "testing"

// TestAllocs holds the per-frame path, producer and consumer, to a budget
// of zero heap allocations.
func TestAllocs(t *testing.T) {
	q := newInbox(t, Config{Slots: 64, MaxFrame: 9014})
	small, jumbo := pattern(64, 1), pattern(9014, 2)
	cases := map[string]func(){
		"Put Next Release": func() {
			q.Put(small)
			next(q)
			q.Release()
		},
		"jumbo": func() {
			q.Put(jumbo)
			next(q)
			q.Release()
		},
		"Reserve Commit Flush": func() {
			s, _ := q.Reserve(1514)
			copy(s.Bytes(), small)
			s.Commit()
			q.Flush()
			next(q)
			q.Release()
		},
		"Cancel": func() {
			s, _ := q.Reserve(100)
			s.Cancel()
			next(q)
			q.Release()
		},
		"Untake": func() {
			q.Put(small)
			q.Put(jumbo)
			next(q)
			next(q)
			q.Untake(0)
			q.Release()
			next(q)
			next(q)
			q.Release()
		},
		"Park Unpark": func() {
			q.Park()
			q.Unpark()
		},
		"full": func() {
			for q.Put(small) {
			}
			for {
				if _, ok := next(q); !ok {
					break
				}
			}
			q.Release()
		},
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per run, budget 0", name, n)
		}
	}
}
