package cli

import (
	"bufio"
	"flag"
	"fmt"
	"slices"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
)

func runPermute(args []string, env Env) int {
	fs := flag.NewFlagSet("permute", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per lookalike")
	techs := fs.String("techniques", "", "only these techniques (`LIST`, comma-separated; default all)")
	wide := fs.Bool("wide", false, "every lookalike a squatter could register (at least dnstwist's), not only those rcptguard flags")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: rcptguard permute [--json] [--techniques LIST] [--wide] DOMAIN ...\n\nPrints every lookalike of each DOMAIN that rcptguard would flag, with its technique;\nwith --wide, every lookalike a squatter could register.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nTechniques: %v\n", engine.Techniques())
	}
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	var ts []engine.Technique
	if *techs != "" {
		var err error
		if ts, err = engine.ParseTechniques(*techs); err != nil {
			return fail(env, "--techniques: %v", err)
		}
	}
	if fs.NArg() == 0 {
		return fail(env, "permute needs at least one DOMAIN")
	}
	doms := make([]address.Domain, 0, fs.NArg())
	for _, a := range fs.Args() {
		d, err := address.ParseDomain(a)
		if err != nil {
			return fail(env, "%s: %v", a, err)
		}
		doms = append(doms, d)
	}
	out := bufio.NewWriter(env.Stdout)
	var b []byte
	for _, d := range doms {
		var vs []engine.Variant
		if *wide {
			vs = onlyTechniques(engine.PermuteWide(d), ts)
		} else {
			vs = engine.Permute(d, ts)
		}
		for _, v := range vs {
			b = b[:0]
			if *asJSON {
				b = append(b, `{"of":`...)
				b = guard.AppendJSONString(b, d.ASCII)
				b = append(b, `,"domain":`...)
				b = guard.AppendJSONString(b, v.Domain.ASCII)
				b = append(b, `,"display":`...)
				b = guard.AppendJSONString(b, v.Domain.Display)
				b = append(b, `,"technique":`...)
				b = guard.AppendJSONString(b, v.Technique.String())
				b = append(b, '}')
			} else {
				b = append(b, v.Domain.Display...)
				b = append(b, "  "...)
				b = append(b, v.Technique.String()...)
				if v.Domain.Display != v.Domain.ASCII {
					b = append(b, "  "...)
					b = append(b, v.Domain.ASCII...)
				}
			}
			b = append(b, '\n')
			out.Write(b)
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "rcptguard: writing: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// onlyTechniques keeps the variants made by one of ts (all when ts is empty).
func onlyTechniques(vs []engine.Variant, ts []engine.Technique) []engine.Variant {
	if len(ts) == 0 {
		return vs
	}
	return slices.DeleteFunc(vs, func(v engine.Variant) bool { return !slices.Contains(ts, v.Technique) })
}
