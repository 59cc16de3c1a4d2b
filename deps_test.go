package vcc_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule keeps the layering of shared/DESIGN.md: media imports no package of ours; call
// imports only media; signaling, gateway, sfu, mcu and store import call and media but never each
// other; only cmd wires them together.
func TestDependencyRule(t *testing.T) {
	const mod = "github.com/contactcenter/vcc/"
	allowed := map[string][]string{
		"media":     {},
		"call":      {"media"},
		"signaling": {"call", "media"},
		"sfu":       {"call", "media"},
		"mcu":       {"call", "media"},
		"gateway":   {"call", "media"},
		"store":     {"call", "media"},
		"record":    {"call", "media"},
		"client":    {},
		"webclient": {},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg+"/...").CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") || strings.Contains(string(out), "directory not found") || strings.Contains(string(out), "no such file or directory") {
				continue // a layer that does not exist yet
			}
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			top := strings.SplitN(strings.TrimPrefix(dep, mod), "/", 2)[0]
			if top == pkg {
				continue
			}
			permitted := false
			for _, a := range ok {
				permitted = permitted || a == top
			}
			if !permitted {
				t.Errorf("%s imports %s: not allowed by the dependency rule", pkg, dep)
			}
		}
	}
}
