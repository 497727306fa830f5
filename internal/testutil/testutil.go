// Package testutil holds helpers shared by dropmon's tests: deciding whether a
// privileged test can run, and finding the shared test data beside the checkout.
package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// RequirePrivilegedEnv names the environment variable that turns the skips of
// privileged tests into failures. CI sets it so that a machine without the
// privileges it promised fails loudly instead of passing quietly.
const RequirePrivilegedEnv = "DROPMON_REQUIRE_PRIVILEGED"

// IsPermission reports whether err says the caller lacks a privilege.
func IsPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// Privileged decides whether a privileged test may go on, by the outcome of an
// operation it tried (never by the uid: containers give root without
// capabilities). When err is a permission error the test is skipped with the
// reason, or fails when DROPMON_REQUIRE_PRIVILEGED=1. Any other error is left
// to the caller.
func Privileged(t testing.TB, err error) {
	t.Helper()
	if err == nil || !IsPermission(err) {
		return
	}
	if os.Getenv(RequirePrivilegedEnv) == "1" {
		t.Fatalf("privileged test cannot run (%s=1): %v", RequirePrivilegedEnv, err)
	}
	t.Skipf("skipping privileged test: %v (run as root to include it)", err)
}

// SharedDir returns the ../shared folder that sits beside the checkout
// (conformance tests, verifier corpus), or skips the test when it is absent.
// With CI=true an absent folder fails the test instead.
func SharedDir(t testing.TB, sub string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate the source tree")
	}
	// internal/testutil/testutil.go -> repository root -> its parent.
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	dir := filepath.Join(filepath.Dir(root), "shared", sub)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data %s is missing: %v", dir, err)
		}
		t.Skipf("skipping: shared test data %s is absent (it sits beside a developer's checkout, not in a clone)", dir)
	}
	return dir
}
