// Command genreal writes the CodeGeneratorRequests of published proto sets
// (package internal/corpus) into a cache directory and prints them as
// genbench's -real flag: name=path,name=path.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/polyrpc/polyrpc/internal/corpus"
)

func main() {
	cache := flag.String("cache", "", "directory for the requests (required)")
	sets := flag.String("sets", corpus.Largest+",grpc-gateway-v2", "comma-separated corpus sets")
	flag.Parse()
	if *cache == "" {
		flag.Usage()
		os.Exit(2)
	}
	var out []string
	for _, name := range strings.Split(*sets, ",") {
		file := filepath.Join(*cache, "real-"+name+".bin")
		if _, err := os.Stat(file); err != nil {
			req, err := corpus.Request(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "genreal:", err)
				os.Exit(1)
			}
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
			if err == nil {
				err = os.MkdirAll(*cache, 0o755)
			}
			if err == nil {
				err = os.WriteFile(file, b, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "genreal:", err)
				os.Exit(1)
			}
		}
		out = append(out, name+"="+file)
	}
	fmt.Println(strings.Join(out, ","))
}
