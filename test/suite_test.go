package test

import (
	"testing"

	"github.com/anykernel/anykernel/test/conformance"
)

// TestConformance runs every case against every backend this build knows;
// a backend missing on this machine skips with the reason and the remedy.
func TestConformance(t *testing.T) {
	cases := conformance.Cases()
	if len(cases) == 0 {
		t.Fatal("no conformance cases registered")
	}
	for _, tg := range conformance.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			k, err := tg.Open()
			if err != nil {
				t.Skipf("backend %s unavailable: %v", tg.Name, err)
			}
			for _, c := range cases {
				t.Run(c.Family+"/"+c.Call, func(t *testing.T) {
					conformance.Prepare(t, &c, tg)
					c.Run(t, &conformance.Env{K: k, Target: tg})
				})
			}
		})
	}
}
