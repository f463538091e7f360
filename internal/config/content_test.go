package config

import (
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
)

func TestContentDefaults(t *testing.T) {
	c := Default().Content
	if c.Enabled || c.Escalate["credentials"] != guard.Hold || c.Escalate["personal"] != guard.Hold ||
		c.Escalate["medical"] != guard.Hold || len(c.Escalate) != 3 || len(c.OnAnyExternal) != 0 ||
		c.MaxMessage != 25<<20 || c.MaxTime != 2*time.Second {
		t.Errorf("defaults %+v", c)
	}
	if cl, err := c.Classifier(); cl != nil || err != nil {
		t.Errorf("disabled: classifier %v, %v", cl, err)
	}
}

func TestContentKeys(t *testing.T) {
	in := `content:
  enabled: true
  escalate: {medical: reject, personal: none, project-x: hold}
  on_any_external: {markings: hold}
  markings: ["EXPORT CONTROLLED"]
  custom:
    - name: project-x
      keywords: [bluebird]
      patterns: ['PX-[0-9]{4}']
      min: 2
  max_message: 1048576
  max_time: 500ms
`
	c, err := Parse([]byte(in), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Content
	if !cc.Enabled || cc.Escalate["medical"] != guard.Reject || cc.Escalate["credentials"] != guard.Hold ||
		cc.Escalate["project-x"] != guard.Hold || len(cc.Escalate) != 3 || cc.OnAnyExternal["markings"] != guard.Hold ||
		cc.MaxMessage != 1<<20 || cc.MaxTime != 500*time.Millisecond || len(cc.Markings) != 1 {
		t.Errorf("content %+v", cc)
	}
	if len(cc.Custom) != 1 || cc.Custom[0].Name != "project-x" || cc.Custom[0].Min != 2 || cc.Custom[0].Patterns[0] != "PX-[0-9]{4}" {
		t.Errorf("custom %+v", cc.Custom)
	}
	cl, err := cc.Classifier()
	if err != nil || cl == nil {
		t.Fatalf("classifier: %v", err)
	}
	r := cl.Classify(t.Context(), strings.NewReader("Subject: x\r\n\r\nbluebird PX-1234\r\n"))
	if !r.Has("project-x") {
		t.Errorf("the custom category is not found: %+v", r)
	}
	rules := cc.Rules()
	if rules.Escalate[content.Medical] != guard.Reject || rules.OnAnyExternal[content.Markings] != guard.Hold {
		t.Errorf("rules %+v", rules)
	}
}

func TestBadContentValuesNameTheKeyAndLine(t *testing.T) {
	for in, want := range map[string]string{
		"content:\n  enabled: yes please\n":                                       "rg.yaml:2: content.enabled: want true or false",
		"content:\n  escalate: {passwords: hold}\n":                               `rg.yaml:2: content.escalate: unknown category "passwords"; the categories are bulk, credentials`,
		"content:\n  escalate: {credentials: warn}\n":                             "rg.yaml:2: content.escalate.credentials: want hold, reject or none, got \"warn\"",
		"content:\n  escalate: hold\n":                                            "rg.yaml:2: content.escalate: want a mapping such as {credentials: hold}",
		"content:\n  on_any_external: {markings: allow}\n":                        "content.on_any_external.markings: want hold, reject or none",
		"content:\n  max_message: 10\n":                                           "rg.yaml:2: content.max_message: want a whole number from 1024",
		"content:\n  max_time: soon\n":                                            "rg.yaml:2: content.max_time: want a duration from 1ms to 1m0s such as 2s",
		"content:\n  custom:\n    - name: x\n":                                    "rg.yaml:3: content.custom: category \"x\" needs keywords or patterns",
		"content:\n  custom:\n    - keywords: [a]\n":                              "rg.yaml:3: content.custom: a category needs a name",
		"content:\n  custom:\n    - name: x\n      patterns: ['(']\n":             "rg.yaml:3: content.custom: custom category \"x\": pattern \"(\" is not valid RE2",
		"content:\n  custom:\n    - name: credentials\n      keywords: [a]\n":     `rg.yaml:3: content.custom: custom category "credentials": name already used`,
		"content:\n  custom:\n    - name: x\n      keyword: [a]\n":                `rg.yaml:4: content.custom: unknown key "keyword"`,
		"content:\n  custom:\n    - name: x\n      keywords: [a]\n      min: 0\n": "rg.yaml:5: content.custom.min: want a whole number from 1",
		"content:\n  custom: x\n":                                                 "rg.yaml:2: content.custom: want a list of categories",
		"content:\n  markings: [\"\"]\n":                                          "content.markings: want a non-empty string",
		"content:\n  enable: true\n":                                              "enable",
	} {
		_, err := Parse([]byte(in), "rg.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want an error with %q", in, err, want)
		}
	}
}
