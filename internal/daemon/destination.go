package daemon

import (
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// destinations checks that the configured destinations can be used (their password and
// CA files read, smtpout.Load) before anything starts.
func destinations(cfg config.Config) error {
	for _, d := range []struct {
		what string
		d    config.Destination
	}{
		{"relay.upstream", cfg.UpstreamDestination()},
		{"quarantine.reinject", cfg.ReinjectDestination()},
		{"notice.smarthost", cfg.NoticeDestination()},
	} {
		if _, err := smtpout.Load(d.what, d.d, ""); err != nil {
			return err
		}
	}
	return nil
}
