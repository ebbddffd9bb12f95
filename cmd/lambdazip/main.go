// Command lambdazip packs a Lambda bootstrap binary into a reproducible zip.
//
//	lambdazip -o dist/processor.zip build/processor/bootstrap
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: lambdazip -o OUT.zip FILE...\nPacks FILEs (by base name) into a zip whose bytes depend only on theirs.")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	files := make([]lambdazip.File, 0, flag.NArg())
	for _, p := range flag.Args() {
		files = append(files, lambdazip.File{Name: filepath.Base(p), Path: p})
	}
	if err := lambdazip.WriteFile(*out, files); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}
