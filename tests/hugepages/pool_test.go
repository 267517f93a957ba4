package hugepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

const nrHugepages = "/proc/sys/vm/nr_hugepages"

// pool is the HugePages_* counts of /proc/meminfo.
type pool struct{ total, free, rsvd int }

func readPool(t *testing.T) pool {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p pool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.Atoi(strings.TrimSpace(val))
		switch key {
		case "Hugepagesize":
			if strings.TrimSpace(val) != "2048 kB" {
				t.Fatalf("default huge page size %s; these tests size the 2 MiB pool through %s", val, nrHugepages)
			}
		case "HugePages_Total":
			p.total = n
		case "HugePages_Free":
			p.free = n
		case "HugePages_Rsvd":
			p.rsvd = n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

// setPool sets nr_hugepages to n and puts the old value back at cleanup
// (registered before the daemon's, so it runs after the daemon is gone).
// It fails the test if the kernel cannot provide n pages.
func setPool(t *testing.T, n int) {
	t.Helper()
	old, err := os.ReadFile(nrHugepages)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(nrHugepages, old, 0o644); err != nil {
			t.Errorf("restore %s to %s: %v", nrHugepages, strings.TrimSpace(string(old)), err)
		}
	})
	if err := os.WriteFile(nrHugepages, []byte(strconv.Itoa(n)), 0o644); err != nil {
		t.Fatalf("set %s to %d: %v", nrHugepages, n, err)
	}
	if got := readPool(t).total; got != n {
		t.Fatalf("%s: asked for %d pages, the kernel has %d", nrHugepages, n, got)
	}
}
