// Package setup turns a configuration into a guard: it reads the known-correspondents file
// and the built-in provider list, normalises every entry and builds the engine. It is the
// one place where configuration meets the decision core, shared by every command.
package setup

import (
	"fmt"
	"slices"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/knownfile"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// Extra are inputs added to a configuration's own, from the command line.
type Extra struct {
	KnownFiles []string
	Known      []engine.KnownDomain
}

// Inputs collects the engine's inputs for cfg.
func Inputs(cfg config.Config, extra Extra) (engine.Inputs, error) {
	var in engine.Inputs
	var err error
	split := func(what string, es []config.Entry, doms *[]address.Domain, nss *[]string) {
		for _, e := range es {
			if err != nil {
				return
			}
			if e.Namespace {
				if nss == nil {
					err = fmt.Errorf("%s: %s is a namespace, a domain is needed", what, e)
					return
				}
				*nss = append(*nss, e.Name)
				continue
			}
			d, perr := address.ParseDomain(e.Name)
			if perr != nil {
				err = fmt.Errorf("%s: %w", what, perr)
				return
			}
			*doms = append(*doms, d)
		}
	}
	split("own_domains", cfg.OwnDomains, &in.Own, nil)
	split("protect", cfg.Protect, &in.Protected, &in.ProtectedNamespaces)
	split("allow", cfg.Allow, &in.Allow, &in.AllowNamespaces)
	split("block", cfg.Block, &in.Block, &in.BlockNamespaces)
	if err != nil {
		return in, err
	}
	if cfg.Providers {
		in.Providers, in.MajorProviders = providers.Domains(), providers.Major()
	}
	files := extra.KnownFiles
	if cfg.KnownFile != "" {
		files = append([]string{cfg.KnownFile}, files...)
	}
	// The list is made once at its size, or not at all for a single file: with a million
	// domains, growing it or copying it costs more than reading them.
	lists := make([][]engine.KnownDomain, 0, len(files)+1)
	for _, f := range files {
		entries, err := knownfile.Load(f)
		if err != nil {
			return in, err
		}
		lists = append(lists, entries)
	}
	lists = append(lists, extra.Known)
	if len(files) == 1 && len(extra.Known) == 0 {
		in.Known = lists[0]
	} else {
		in.Known = slices.Concat(lists...)
	}
	return in, nil
}

// Guard builds the guard for cfg.
func Guard(cfg config.Config, extra Extra) (*guard.Guard, error) {
	in, err := Inputs(cfg, extra)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(in)
	if err != nil {
		return nil, err
	}
	return guard.New(eng, cfg.Policy), nil
}
