package smtpout

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/safefile"
)

// maxSecretFile bounds a password or CA file.
const maxSecretFile = 1 << 20

// Load turns a configured destination into a Destination, reading its password file and
// CA file; what names the setting in errors ("relay.upstream"). hostname is the name
// given in EHLO; "" leaves it to the caller. A destination without an address is returned
// as it is.
func Load(what string, d config.Destination, hostname string) (Destination, error) {
	out := Destination{Address: d.Address, Hostname: hostname, TLS: TLSMode(d.TLS),
		ServerName: d.ServerName, Username: d.Username}
	if d.Address == "" {
		return out, nil
	}
	if d.CAFile != "" {
		pem, err := readSmall(d.CAFile)
		if err != nil {
			return out, fmt.Errorf("%s: ca_file: %w", what, err)
		}
		out.RootCAs = x509.NewCertPool()
		if !out.RootCAs.AppendCertsFromPEM(pem) {
			return out, fmt.Errorf("%s: ca_file %s: no PEM certificate in it", what, d.CAFile)
		}
	}
	if d.PasswordFile != "" {
		b, err := readSmall(d.PasswordFile)
		if err != nil {
			return out, fmt.Errorf("%s: auth.password_file: %w", what, err)
		}
		// The first line is the password; a final line end is not part of it.
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		if pw == "" {
			return out, fmt.Errorf("%s: auth.password_file %s: empty (the password is its first line)", what, d.PasswordFile)
		}
		out.Password = pw
	}
	if err := out.Check(); err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func readSmall(path string) ([]byte, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err == nil && len(b) > maxSecretFile {
		err = errors.New(path + ": larger than 1 MiB")
	}
	return b, err
}
