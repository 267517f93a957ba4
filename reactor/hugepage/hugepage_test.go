package hugepage

import (
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"off": Off, "false": Off, "on": On, "true": On, "try": On, "required": Required} {
		got, err := ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
		if again, _ := ParseMode(got.String()); again != got {
			t.Errorf("%v does not round-trip through String", got)
		}
	}
	if _, err := ParseMode("yes"); err == nil {
		t.Error(`ParseMode("yes") accepted`)
	}
}

func TestPages(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 1, Size: 1, Size + 1: 2, 1<<20 + 9230: 1} {
		if got := Pages(n); got != want {
			t.Errorf("Pages(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestAdvice(t *testing.T) {
	p := Pool{Total: 4, Free: 3, Reserved: 1, Control: nrHugepages}
	if got, want := p.Advice(5), "echo 7 > /proc/sys/vm/nr_hugepages"; !strings.Contains(got, want) {
		t.Errorf("Advice(5) = %q, want it to contain %q", got, want)
	}
	if got := p.Advice(2); strings.Contains(got, "echo") {
		t.Errorf("Advice(2) with 2 available = %q, wants no command", got)
	}
}
