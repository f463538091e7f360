package content

import (
	"path"
	"strings"
)

// Category credentials.
//
// Evidence:
//   - "password line": a password, passcode or PIN label in English, French,
//     German, Spanish, Dutch, Portuguese or Italian followed by a separator
//     (":" or "=") and a value on the same line ("Password: x7!kQ",
//     "mot de passe : ...", "Passwort: ...", "contraseña: ...",
//     "wachtwoord: ..."). A phrase is not a value: "forgot your password?",
//     "reset your password: https://...", "Password: (sent separately)" and
//     masked values ("********") do not count; a PIN needs 4 or more digits.
//   - "private key": a PEM "-----BEGIN ... PRIVATE KEY-----" line.
//   - "access token": AWS access key ids (AKIA...), GitHub tokens (ghp_,
//     gho_, ghu_, ghs_, ghr_, github_pat_), Slack tokens (xoxb-, xoxp-...),
//     Google API keys (AIza...), JSON Web Tokens (eyJ...eyJ...).
//   - "key or password file": an attachment named .kdbx, .kdb, .pem, .p12,
//     .pfx, .key, .ppk, .jks or .keystore.
//   - "password-protected attachment": an encrypted zip, PDF or Office file.
//
// Tuning: none; one piece of evidence is enough.
const (
	evPassword   = "password line"
	evPrivateKey = "private key"
	evToken      = "access token"
	evKeyFile    = "key or password file"
	evEncrypted  = "password-protected attachment"
)

var (
	passwordLine = lazy(`(?i)(?:^|[^\pL])(password|passwort|passwd|pwd|passcode|pass code|passphrase|pin|pin code|pincode|code pin|mot de passe|mdp|kennwort|contraseña|contrasena|clave|wachtwoord|senha|parola d'ordine)\s*(?:\([^)]{0,30}\))?\s*[:=：]\s*(\S+)`)
	privateKey   = lazy(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)
	apiToken     = lazy(`\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})`)
)

// notValues are words that follow a password label in ordinary mail without
// being a password ("Password: reset it here", "Passwort: bitte ändern").
var notValues = map[string]bool{
	"reset": true, "forgot": true, "forgotten": true, "click": true, "here": true, "change": true,
	"changed": true, "required": true, "none": true, "n/a": true, "na": true, "same": true,
	"hidden": true, "see": true, "sent": true, "will": true, "your": true, "the": true, "is": true,
	"use": true, "enter": true, "follow": true, "below": true, "above": true, "unchanged": true,
	"provided": true, "separately": true, "not": true, "to": true, "a": true, "an": true,
	"bitte": true, "votre": true, "vous": true, "su": true, "tu": true, "uw": true, "je": true,
	"ihr": true, "ihre": true, "your_password": true, "password": true, "tbd": true, "redacted": true,
	"must": true, "should": true, "minimum": true, "at": true, "min": true, "via": true, "as": true,
}

func credentials(s *scanner, l *lineText) {
	if l.is(flagDash) && strings.Contains(l.raw, "-----BEGIN") && privateKey.MatchString(l.raw) {
		s.t.add(Credentials, evPrivateKey, 1)
	}
	if l.has(hintPassword) && l.is(flagColonEq) && strings.ContainsAny(l.raw, ":=：") {
		n := 0
		for _, m := range passwordLine.FindAllStringSubmatch(l.raw, -1) {
			if passwordValue(strings.ToLower(m[1]), m[2]) {
				n++
			}
		}
		s.t.add(Credentials, evPassword, n)
	}
	if l.is(flagToken) && containsAny(l.raw, tokenHints) {
		s.t.add(Credentials, evToken, len(apiToken.FindAllStringIndex(l.raw, -1)))
	}
}

// tokenHints: every token shape has one of these (GitHub and Slack ones a "_" or "xox").
var tokenHints = []string{"AKIA", "_", "xox", "AIza", "eyJ"}

// passwordValue says whether v, the first word after a password label, looks
// like a value rather than a phrase, a link or a mask.
func passwordValue(label, v string) bool {
	v = strings.TrimRight(v, ".,;!?)\"'")
	lv := strings.ToLower(v)
	if len(v) < 4 || notValues[lv] {
		return false
	}
	if strings.HasPrefix(lv, "http") || strings.HasPrefix(lv, "www.") || strings.ContainsAny(v[:1], "(<[{") {
		return false
	}
	if strings.Trim(v, "*•.xX#-_") == "" {
		return false
	}
	if label == "pin" || label == "pin code" || label == "pincode" || label == "code pin" {
		d := 0
		for _, r := range v {
			if r >= '0' && r <= '9' {
				d++
			}
		}
		return d >= 4
	}
	return true
}

var keyFileExt = map[string]bool{".kdbx": true, ".kdb": true, ".pem": true, ".p12": true, ".pfx": true,
	".key": true, ".ppk": true, ".jks": true, ".keystore": true}

// keyFile says whether an attachment's name is a key or password store.
func keyFile(name string) bool {
	return keyFileExt[strings.ToLower(path.Ext(name))]
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
