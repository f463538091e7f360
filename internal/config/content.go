package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// Content configures content rules (docs/content.md): what the message carries changes
// what a flagged recipient risks. Only the doors that see the message apply them (the
// milter, the relay, the intake); the policy service cannot.
type Content struct {
	// Enabled turns content rules on (default off).
	Enabled bool
	// Escalate maps a category to what a flagged (warned) recipient's verdict becomes when
	// the message carries it: guard.Hold or guard.Reject. A category without an entry
	// changes nothing.
	Escalate map[string]guard.Verdict
	// OnAnyExternal maps a category to the verdict of every recipient outside own_domains
	// and allow when the message carries it, flagged or not (markings: hold is the rule
	// for classified mail). Default: none.
	OnAnyExternal map[string]guard.Verdict
	// Markings are extra marking banners, added to the built-in ones.
	Markings []string
	// Custom are the organisation's own categories.
	Custom []content.Custom
	// MaxMessage and MaxTime bound the classification of one message; a message over
	// them gets the decision without content, which says so.
	MaxMessage int64
	MaxTime    time.Duration
}

// The built-in content settings and their bounds.
const (
	DefaultContentMaxMessage = 25 << 20
	DefaultContentMaxTime    = 2 * time.Second
	maxContentMaxMessage     = 1 << 30
	maxContentMaxTime        = time.Minute
)

// builtinCategories are the classifier's own categories.
var builtinCategories = []string{
	string(content.Credentials), string(content.Personal), string(content.Medical),
	string(content.Markings), string(content.Travel), string(content.Bulk),
}

func defaultContent(c *Config) {
	c.Content = Content{
		Escalate: map[string]guard.Verdict{
			string(content.Credentials): guard.Hold,
			string(content.Personal):    guard.Hold,
			string(content.Medical):     guard.Hold,
		},
		OnAnyExternal: map[string]guard.Verdict{},
		MaxMessage:    DefaultContentMaxMessage,
		MaxTime:       DefaultContentMaxTime,
	}
}

// ClassifierConfig is the content classifier's configuration.
func (c Content) ClassifierConfig() content.Config {
	return content.Config{
		Limits:   content.Limits{MaxMessage: c.MaxMessage, MaxTime: c.MaxTime},
		Markings: c.Markings,
		Custom:   c.Custom,
	}
}

// Classifier builds the content classifier; nil when content rules are off.
func (c Content) Classifier() (*content.Classifier, error) {
	if !c.Enabled {
		return nil, nil
	}
	return content.New(c.ClassifierConfig())
}

// Rules are the guard's content rules.
func (c Content) Rules() guard.ContentRules {
	r := guard.ContentRules{Escalate: map[content.Category]guard.Verdict{}, OnAnyExternal: map[content.Category]guard.Verdict{}}
	for k, v := range c.Escalate {
		r.Escalate[content.Category(k)] = v
	}
	for k, v := range c.OnAnyExternal {
		r.OnAnyExternal[content.Category(k)] = v
	}
	return r
}

type rawContent struct {
	Enabled       yaml.Node `yaml:"enabled"`
	Escalate      yaml.Node `yaml:"escalate"`
	OnAnyExternal yaml.Node `yaml:"on_any_external"`
	Markings      yaml.Node `yaml:"markings"`
	Custom        yaml.Node `yaml:"custom"`
	MaxMessage    yaml.Node `yaml:"max_message"`
	MaxTime       yaml.Node `yaml:"max_time"`
}

type rawCustom struct {
	Name     yaml.Node `yaml:"name"`
	Keywords yaml.Node `yaml:"keywords"`
	Patterns yaml.Node `yaml:"patterns"`
	Min      yaml.Node `yaml:"min"`
}

func (r *rawFile) applyContent(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	rc := &r.Content
	cc := &c.Content
	add(boolean("content.enabled", &rc.Enabled, &cc.Enabled))
	add(stringList("content.markings", &rc.Markings, &cc.Markings))
	custom, es := customList("content.custom", &rc.Custom)
	errs = append(errs, es...)
	if len(es) == 0 {
		cc.Custom = custom
	}
	known := map[string]bool{}
	for _, n := range builtinCategories {
		known[n] = true
	}
	for _, cu := range cc.Custom {
		known[cu.Name] = true
	}
	errs = append(errs, categoryVerdicts("content.escalate", &rc.Escalate, known, cc.Escalate)...)
	errs = append(errs, categoryVerdicts("content.on_any_external", &rc.OnAnyExternal, known, cc.OnAnyExternal)...)
	add(integer("content.max_message", &rc.MaxMessage, &cc.MaxMessage, 1024, maxContentMaxMessage))
	if e := duration("content.max_time", &rc.MaxTime, &cc.MaxTime, time.Millisecond, maxContentMaxTime); e != nil {
		e.Msg = strings.Replace(e.Msg, "such as 14d or 36h", "such as 2s", 1)
		add(e)
	}
	if len(errs) == 0 && (present(&rc.Custom) || present(&rc.Markings)) {
		// config check builds the classifier: a custom category it refuses is a config error.
		if _, err := content.New(cc.ClassifierConfig()); err != nil {
			line := rc.Custom.Line
			if line == 0 {
				line = rc.Markings.Line
			}
			add(&Error{Line: line, Msg: strings.Replace(err.Error(), "content:", "content.custom:", 1), Err: err})
		}
	}
	return errs
}

// categoryVerdicts reads a mapping of category -> hold|reject|none into dst, which holds
// the defaults (none removes a category's entry).
func categoryVerdicts(key string, n *yaml.Node, known map[string]bool, dst map[string]guard.Verdict) []*Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.MappingNode {
		return []*Error{{Line: line, Msg: fmt.Sprintf("%s: want a mapping such as {credentials: hold}, got %s", key, describe(n))}}
	}
	var errs []*Error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if !known[k.Value] {
			names := make([]string, 0, len(known))
			for c := range known {
				names = append(names, c)
			}
			sort.Strings(names)
			errs = append(errs, &Error{Line: k.Line, Msg: fmt.Sprintf("%s: unknown category %s; the categories are %s", key, describe(k), strings.Join(names, ", "))})
			continue
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Value == "hold":
			dst[k.Value] = guard.Hold
		case v.Kind == yaml.ScalarNode && v.Value == "reject":
			dst[k.Value] = guard.Reject
		case v.Kind == yaml.ScalarNode && v.Value == "none":
			delete(dst, k.Value)
		default:
			errs = append(errs, &Error{Line: v.Line, Msg: fmt.Sprintf("%s.%s: want hold, reject or none, got %s", key, k.Value, describe(v))})
		}
	}
	return errs
}

// stringList reads a list of non-empty strings.
func stringList(key string, n *yaml.Node, dst *[]string) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.SequenceNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want a list of strings, got %s", key, describe(n))}
	}
	var out []string
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "" {
			return &Error{Line: item.Line, Msg: fmt.Sprintf("%s: want a non-empty string, got %s", key, describe(item))}
		}
		out = append(out, item.Value)
	}
	*dst = out
	return nil
}

// customList reads the custom categories.
func customList(key string, n *yaml.Node) ([]content.Custom, []*Error) {
	if !present(n) {
		return nil, nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.SequenceNode {
		return nil, []*Error{{Line: line, Msg: fmt.Sprintf("%s: want a list of categories (name, keywords, patterns, min), got %s", key, describe(n))}}
	}
	var out []content.Custom
	var errs []*Error
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			errs = append(errs, &Error{Line: item.Line, Msg: fmt.Sprintf("%s: want a category (name, keywords, patterns, min), got %s", key, describe(item))})
			continue
		}
		bad := false
		for i := 0; i+1 < len(item.Content); i += 2 {
			switch k := item.Content[i]; k.Value {
			case "name", "keywords", "patterns", "min":
			default:
				errs = append(errs, &Error{Line: k.Line, Msg: fmt.Sprintf("%s: unknown key %q; a category has name, keywords, patterns and min", key, k.Value)})
				bad = true
			}
		}
		if bad {
			continue
		}
		var rc rawCustom
		if err := item.Decode(&rc); err != nil {
			errs = append(errs, &Error{Line: item.Line, Msg: fmt.Sprintf("%s: want name, keywords, patterns and min: %v", key, strings.TrimPrefix(err.Error(), "yaml: "))})
			continue
		}
		var cu content.Custom
		var e []*Error
		if err := text(key+".name", &rc.Name, &cu.Name); err != nil {
			e = append(e, err)
		}
		if strings.TrimSpace(cu.Name) == "" {
			e = append(e, &Error{Line: item.Line, Msg: key + ": a category needs a name"})
		}
		if err := stringList(key+".keywords", &rc.Keywords, &cu.Keywords); err != nil {
			e = append(e, err)
		}
		if err := stringList(key+".patterns", &rc.Patterns, &cu.Patterns); err != nil {
			e = append(e, err)
		}
		var m int64 = 1
		if err := integer(key+".min", &rc.Min, &m, 1, 1_000_000); err != nil {
			e = append(e, err)
		}
		cu.Min = int(m)
		if len(e) == 0 && len(cu.Keywords) == 0 && len(cu.Patterns) == 0 {
			e = append(e, &Error{Line: item.Line, Msg: fmt.Sprintf("%s: category %q needs keywords or patterns", key, cu.Name)})
		}
		errs = append(errs, e...)
		out = append(out, cu)
	}
	return out, errs
}
