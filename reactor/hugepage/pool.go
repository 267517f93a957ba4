package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Pool is the kernel's pool of 2 MiB huge pages, as /proc/meminfo (or,
// where the default huge page size is another, sysfs) tells it.
type Pool struct {
	// Total is the number of pages in the pool (nr_hugepages).
	Total int
	// Free is the number of pages not faulted in by anyone.
	Free int
	// Reserved is the number of free pages promised to mappings already
	// made.
	Reserved int
	// Control is the file whose value sets Total.
	Control string
}

// Available is the number of pages a new mapping may take.
func (p Pool) Available() int { return max(p.Free-p.Reserved, 0) }

// Advice says how many pages a caller needs and the command that adds
// them to the pool.
func (p Pool) Advice(need int) string {
	short := need - p.Available()
	if short <= 0 {
		return fmt.Sprintf("%d huge pages of 2 MiB needed, %d available", need, p.Available())
	}
	return fmt.Sprintf("%d huge pages of 2 MiB needed, %d available; reserve them with: echo %d > %s",
		need, p.Available(), p.Total+short, p.Control)
}

// Paths read by ReadPool.
const (
	meminfoPath   = "/proc/meminfo"
	nrHugepages   = "/proc/sys/vm/nr_hugepages"
	sysfsPool2MiB = "/sys/kernel/mm/hugepages/hugepages-2048kB"
)

// ReadPool reads the pool of 2 MiB pages.
func ReadPool() (Pool, error) {
	info, err := readMeminfo()
	if err != nil {
		return Pool{}, err
	}
	if info["Hugepagesize"] == Size>>10 {
		return Pool{
			Total: info["HugePages_Total"], Free: info["HugePages_Free"],
			Reserved: info["HugePages_Rsvd"], Control: nrHugepages,
		}, nil
	}
	p := Pool{Control: filepath.Join(sysfsPool2MiB, "nr_hugepages")}
	for _, f := range []struct {
		name string
		v    *int
	}{{"nr_hugepages", &p.Total}, {"free_hugepages", &p.Free}, {"resv_hugepages", &p.Reserved}} {
		b, err := os.ReadFile(filepath.Join(sysfsPool2MiB, f.name))
		if err != nil {
			return Pool{}, fmt.Errorf("read 2 MiB huge page pool: %w", err)
		}
		if *f.v, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return Pool{}, fmt.Errorf("read 2 MiB huge page pool %s: %w", f.name, err)
		}
	}
	return p, nil
}

// readMeminfo returns the HugePages_* counts and Hugepagesize (in kB) of
// /proc/meminfo.
func readMeminfo() (map[string]int, error) {
	f, err := os.Open(meminfoPath)
	if err != nil {
		return nil, fmt.Errorf("read huge page pool: %w", err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(key, "HugePages_") && key != "Hugepagesize" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(val), " kB"))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", meminfoPath, key, err)
		}
		out[key] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", meminfoPath, err)
	}
	return out, nil
}
