// Command paired reads the output of the runtime benchmarks and prints, for
// every protocol and kind, the median of the paired ratios of each
// implementation to connect-go: run i of an implementation divided by run i
// of connect-go, which ran just before it. On a shared machine, whose load
// drifts within a run, this is steadier than a ratio of medians.
//
//	go run ./internal/bench/runtime/paired internal/bench/runtime/results/bench.txt
//
// -baseline names another implementation to divide by (server.sh uses
// grpc-go).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	baselineFlag := flag.String("baseline", "connect-go", "the implementation every ratio divides by")
	flag.Parse()
	baseline := *baselineFlag
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: paired [-baseline impl] bench.txt")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	// values[unit][row][impl] lists the measurements in run order.
	values := map[string]map[string]map[string][]float64{}
	var rows, units []string
	impls := []string{baseline}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // GOMAXPROCS suffix
		}
		i := strings.LastIndex(name, "/impl=")
		if i < 0 {
			continue
		}
		row, impl := name[:i], name[i+len("/impl="):]
		if !slices.Contains(rows, row) {
			rows = append(rows, row)
		}
		if !slices.Contains(impls, impl) {
			impls = append(impls, impl)
		}
		for j := 2; j+1 < len(fields); j += 2 {
			v, err := strconv.ParseFloat(fields[j], 64)
			if err != nil {
				continue
			}
			unit := fields[j+1]
			if values[unit] == nil {
				values[unit] = map[string]map[string][]float64{}
				units = append(units, unit)
			}
			if values[unit][row] == nil {
				values[unit][row] = map[string][]float64{}
			}
			values[unit][row][impl] = append(values[unit][row][impl], v)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, unit := range units {
		fmt.Printf("%s: median of paired ratios to %s (n pairs)\n", unit, baseline)
		for _, row := range rows {
			base := values[unit][row][baseline]
			if len(base) == 0 { // a unit this row does not report
				continue
			}
			fmt.Printf("  %-40s", row)
			for _, impl := range impls[1:] {
				vs := values[unit][row][impl]
				n := min(len(vs), len(base))
				if n == 0 {
					continue
				}
				ratios := make([]float64, 0, n)
				for i := range n {
					if base[i] > 0 {
						ratios = append(ratios, vs[i]/base[i])
					}
				}
				if len(ratios) == 0 {
					continue
				}
				slices.Sort(ratios)
				m := ratios[len(ratios)/2]
				if len(ratios)%2 == 0 {
					m = (ratios[len(ratios)/2-1] + m) / 2
				}
				fmt.Printf("  %s %.3f (n=%d)", impl, m, len(ratios))
			}
			fmt.Println()
		}
	}
}
