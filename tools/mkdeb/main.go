// Command mkdeb builds rcptguard's Debian package from packaging/debian/nfpm.yaml with
// nfpm used as a Go library (no packaging tool to install). It owns only the packing:
// scripts/package.sh builds the binary and calls it; the files and maintainer scripts
// it packs are in packaging/debian.
//
//	go run ./tools/mkdeb -binary BIN -version V [-arch amd64] [-config packaging/debian/nfpm.yaml] -out FILE.deb
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
}

// debVersion is what Debian accepts as an upstream version with no epoch or revision.
var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

func run(args []string) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	cfg := fs.String("config", filepath.Join("packaging", "debian", "nfpm.yaml"), "the nfpm `FILE`")
	bin := fs.String("binary", "", "the rcptguard `BINARY` to pack (built with CGO_ENABLED=0)")
	version := fs.String("version", "", "the package `VERSION`, such as 0.3.0 or 0.0.0~git20261204")
	arch := fs.String("arch", runtime.GOARCH, "the Debian `ARCH` (Go's GOARCH names match for amd64 and arm64)")
	out := fs.String("out", "", "the .deb `FILE` to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *version == "" || *out == "" {
		return fmt.Errorf("-binary, -version and -out are required")
	}
	if !debVersion.MatchString(*version) {
		return fmt.Errorf("version %q: want digits first, then letters, digits and . + ~", *version)
	}
	binary, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binary); err != nil {
		return err
	}
	vars := map[string]string{"RCPTGUARD_BINARY": binary, "RCPTGUARD_VERSION": *version, "RCPTGUARD_ARCH": *arch}
	conf, err := nfpm.ParseFileWithEnvMapping(*cfg, func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	info, err := conf.Get("deb")
	if err != nil {
		return err
	}
	resolve(info, filepath.Dir(*cfg))
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	return f.Close()
}

// resolve makes the package's relative source paths relative to the nfpm file's folder,
// whatever the working directory.
func resolve(info *nfpm.Info, dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for _, c := range info.Contents {
		abs(&c.Source)
	}
	abs(&info.Scripts.PreInstall)
	abs(&info.Scripts.PostInstall)
	abs(&info.Scripts.PreRemove)
	abs(&info.Scripts.PostRemove)
}
