package test

import (
	"flag"
	"os"
	"testing"
)

// parallel is how many of this package's tests run at once unless
// -parallel is given: the Terraform suites spend most of their time waiting
// on tofu and the local AWS (applies, destroys, a transient failure reaching
// the DLQ), so more than go test's default of GOMAXPROCS run side by side
// on 2 cores without starving one another.
const parallel = "4"

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", parallel)
	}
	os.Exit(m.Run())
}
