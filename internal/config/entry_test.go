package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rcptguard/rcptguard/internal/address"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []Entry
	}{
		{"", nil},
		{"  ", nil},
		{"army.mil", []Entry{{Name: "army.mil"}}},
		{"army.mil,.mil, ml ,Navy.MIL.", []Entry{{Name: "army.mil"}, {Name: "mil", Namespace: true}, {Name: "ml", Namespace: true}, {Name: "navy.mil"}}},
		{".army.mil", []Entry{{Name: "army.mil", Namespace: true}}},
		{"army.mil,army.mil,.ml,ml", []Entry{{Name: "army.mil"}, {Name: "ml", Namespace: true}}},
		{"bücher.de", []Entry{{Name: "xn--bcher-kva.de"}}},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseList(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"army.mil,,navy.mil", "item 2 of 3 is empty (two commas, or a comma at an end?)"},
		{"army.mil,", "item 2 of 2 is empty (two commas, or a comma at an end?)"},
		{",army.mil", "item 1 of 2 is empty (two commas, or a comma at an end?)"},
		{"army.mil, ", "item 2 of 2 is empty (two commas, or a comma at an end?)"},
		{"army.mil,ar my.mil", `item 2: invalid domain "ar my.mil": character ' ' is not allowed in a domain name ("ar my.mil")`},
		{"*.mil", `item 1: wildcard "*.mil": write ".mil" for the namespace`},
		{"a@b.com", `item 1: "a@b.com" is an address; write only its domain`},
		{"army..mil", `item 1: invalid domain "army..mil": empty label in "army..mil"`},
	}
	for _, tt := range tests {
		_, err := ParseList(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseList(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ParseList("a b.com"); !errors.Is(err, address.ErrInvalid) {
		t.Errorf("ParseList error %v does not wrap address.ErrInvalid", err)
	}
}

func TestEntryStringAndMatches(t *testing.T) {
	dom := func(s string) address.Domain {
		d, err := address.ParseDomain(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	mil := Entry{Name: "mil", Namespace: true}
	army := Entry{Name: "army.mil"}
	armyNS := Entry{Name: "army.mil", Namespace: true}
	if mil.String() != ".mil" || army.String() != "army.mil" {
		t.Errorf("String: %q %q", mil, army)
	}
	tests := []struct {
		e    Entry
		d    string
		want bool
	}{
		{mil, "army.mil", true}, {mil, "mail.army.mil", true}, {mil, "army.ml", false}, {mil, "armymil.com", false},
		{army, "army.mil", true}, {army, "mail.army.mil", false}, {army, "navy.mil", false},
		{armyNS, "army.mil", true}, {armyNS, "mail.army.mil", true}, {armyNS, "xarmy.mil", false},
	}
	for _, tt := range tests {
		if got := tt.e.Matches(dom(tt.d)); got != tt.want {
			t.Errorf("%v.Matches(%s) = %v", tt.e, tt.d, got)
		}
	}
}

func TestEntryUnmarshalYAMLInAnyDocument(t *testing.T) {
	var v struct{ List []Entry }
	if err := yaml.Unmarshal([]byte("list:\n  - army.mil\n  - mil\n"), &v); err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"army.mil", false, 2}, {"mil", true, 3}}
	if !reflect.DeepEqual(v.List, want) {
		t.Errorf("got %+v, want %+v", v.List, want)
	}
	err := yaml.Unmarshal([]byte("list:\n  - army.mil\n  - 'a b'\n"), &v)
	if err == nil || !strings.Contains(err.Error(), `line 3: invalid domain "a b"`) {
		t.Errorf("error = %v", err)
	}
}
