package parallel

import (
	"runtime"
	"testing"
)

func TestWorkerPanics(t *testing.T) {
	boom := func(i int) {
		if i == 3 {
			panic("boom")
		}
	}
	if err := For(10, boom); err == nil || err.Error() != "internal error (please report it): boom" {
		t.Errorf("For: %v", err)
	}
	if err := For(10, func(int) {}); err != nil {
		t.Errorf("For: %v", err)
	}
	for _, procs := range []int{1, 4} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			used := 0
			err := InOrder(10, func(i int) (int, error) { boom(i); return i, nil }, func(i, v int) error { used++; return nil })
			if err == nil || err.Error() != "internal error (please report it): boom" || used != 3 {
				t.Errorf("GOMAXPROCS=%d: InOrder: %v after %d results", procs, err, used)
			}
		}()
	}
}
