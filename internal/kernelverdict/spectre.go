package kernelverdict

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// vulnerabilities are the files of /sys/devices/system/cpu/vulnerabilities
// that decide the verifier's Spectre hardening for loaders without
// CAP_PERFMON (bypass_spec_v1, bypass_spec_v4).
var vulnerabilities = []string{"spectre_v1", "spectre_v2", "spec_store_bypass"}

// Mitigations describes the CPU's Spectre mitigation state, under which
// the kernel's verdicts for BPFOnly and Unprivileged loads were taken:
// "spectre_v1=Mitigation: ...; spectre_v2=...; spec_store_bypass=...".
func Mitigations() string {
	var parts []string
	for _, name := range vulnerabilities {
		b, err := os.ReadFile(filepath.Join("/sys/devices/system/cpu/vulnerabilities", name))
		state := strings.TrimSpace(string(b))
		if err != nil {
			state = fmt.Sprintf("unknown (%v)", err)
		}
		parts = append(parts, name+"="+state)
	}
	return strings.Join(parts, "; ")
}
