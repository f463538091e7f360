package confusables

import "testing"

func TestMixedScript(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"gmail", false},
		{"gmаil", true}, // Latin + Cyrillic а
		{"münchen", false},
		{"日本語", false},
		{"ラーメンabc", false}, // Katakana + Latin
		{"東京tokyoとうきょう", false},
		{"中文abcㄅ", false}, // Han + Latin + Bopomofo
		{"한국abc漢", false}, // Hangul + Latin + Han
		{"пример", false}, // Cyrillic only
		{"пример-123", false},
		{"cοntoso", true}, // Latin + Greek ο
		{"αβγ", false},
		{"αβγпр", true},   // Greek + Cyrillic
		{"한국ひらがな", true},  // Hangul + Hiragana
		{"abcㄅ한", true},   // Bopomofo + Hangul
		{"שלוםabc", true}, // Hebrew + Latin
		{"ไทย", false},    // Thai, via the unicode.Scripts fallback
		{"ไทยລາວ", true},  // Thai + Lao
		{"é\u0301-1.2", false},
		{"\xff\xfe", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := MixedScript(tt.in); got != tt.want {
			t.Errorf("MixedScript(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
