package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestMkdebPacksWhatNfpmYamlSays builds a package from packaging/debian with a stand-in
// binary, from another working directory, and reads it back with dpkg-deb.
func TestMkdebPacksWhatNfpmYamlSays(t *testing.T) {
	testenv.RequireTool(t, "dpkg-deb")
	cfg := filepath.Join(testenv.RepoRoot(t), "packaging", "debian", "nfpm.yaml")
	dir := t.TempDir()
	bin := filepath.Join(dir, "rcptguard")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the paths in nfpm.yaml are relative to its folder, not to this one
	deb := filepath.Join(dir, "out.deb")
	if err := run([]string{"-config", cfg, "-binary", "rcptguard", "-version", "1.2.3~git5", "-arch", "amd64", "-out", deb}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "Package: rcptguard\nVersion: 1.2.3~git5\nArchitecture: amd64\nDepends: adduser\n"; string(out) != want {
		t.Errorf("control fields:\n%s\nwant\n%s", out, want)
	}
	files, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./usr/bin/rcptguard", "./etc/rcptguard/rcptguard.yaml", "./lib/systemd/system/rcptguard.service"} {
		if !strings.Contains(string(files), want+"\n") {
			t.Errorf("the package has no %s:\n%s", want, files)
		}
	}
}

func TestMkdebRefusesBadInput(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "rcptguard")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-binary", bin, "-out", "x.deb"},
		{"-binary", bin, "-version", "v1.0", "-out", "x.deb"},
		{"-binary", bin, "-version", "1.0-1", "-out", "x.deb"},
		{"-binary", filepath.Join(t.TempDir(), "missing"), "-version", "1.0", "-out", "x.deb"},
	} {
		if err := run(args); err == nil {
			t.Errorf("mkdeb %q: no error", args)
		}
	}
}
