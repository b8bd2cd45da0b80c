// Package parallel runs the generator's work on one worker per core: a
// loop over independent items, and a pipeline whose results are used in
// order. A panic on a worker comes back as an error instead of ending the
// process.
package parallel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// For runs fn(0..n-1) on GOMAXPROCS workers. A panic in fn is
// returned as an error (the first, by index), as a panic on a worker
// would otherwise end the process.
func For(n int, fn func(i int)) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), n); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				errs[i] = Protect(func() error { fn(i); return nil })
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Protect runs fn, turning a panic into an error.
func Protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (please report it): %v", r)
		}
	}()
	return fn()
}

// InOrder runs produce(0..n-1) on parallel workers and passes the results
// to use in index order, each as soon as it and all before it are ready.
// At most a few results wait at a time, so that output does not pile up
// in memory. The first error stops the work.
func InOrder[T any](n int, produce func(i int) (T, error), use func(i int, v T) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			var v T
			err := Protect(func() (err error) {
				v, err = produce(i)
				return err
			})
			if err != nil {
				return err
			}
			if err := use(i, v); err != nil {
				return err
			}
		}
		return nil
	}
	type result struct {
		v   T
		err error
	}
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// A slot is taken before a job starts and given back when its result
	// is used, which bounds the results held at once.
	slots := make(chan struct{}, 2*workers)
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var v T
				err := Protect(func() (err error) {
					v, err = produce(i)
					return err
				})
				results[i] <- result{v, err}
			}
		}()
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		r := <-results[i]
		err = r.err
		if err == nil {
			err = use(i, r.v)
		}
		<-slots
	}
	close(stop)
	wg.Wait()
	return err
}
