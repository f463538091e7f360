package held

import (
	"errors"
	"os"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// Settings are what the configuration says about held mail: the notices, the re-injection
// and the timings. A reload changes them at once (Service.Apply); what was already decided
// stays (a held message keeps the expiry it was given).
type Settings struct {
	// Notices: Notifier sends them (nil: none are sent); From is their From address;
	// BaseURL is where the validation pages are served ("http://host:port"); Org names
	// the organisation in them; OwnDomains decide who may receive them
	// (notice.Recipient).
	Notifier   *notice.Sender
	From       string
	BaseURL    string
	Org        string
	OwnDomains []string

	// Reinject is the SMTP service released mail is handed to; Hostname is the name
	// given in EHLO (to it unless it names its own, and to the notices' smarthost).
	Reinject smtpout.Destination
	Hostname string

	ExpireAfter time.Duration // DefaultExpireAfter if zero
	OnExpiry    ExpiryAction  // ExpireDelete if empty
	PurgeAfter  time.Duration // DefaultPurgeAfter if zero: final messages are deleted after it
	// AlwaysAsk lists domains and namespaces (ASCII, lower case, "ml" or "army.ml") for
	// which a sender's confirmation is never remembered. Lookalikes of protected domains
	// and namespaces are always asked about anyway.
	AlwaysAsk []string
}

// SettingsFrom reads the settings from a configuration: the one place that does, for
// `rcptguard serve` and its reloads and for the quarantine commands alike. It reads the
// password and CA files of the re-injection and the notices' smarthost (smtpout.Load);
// when one cannot be read it says so, and the settings it returns have every other value.
func SettingsFrom(cfg config.Config) (Settings, error) {
	hostname := cfg.Notice.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	st := Settings{
		From: cfg.Notice.From, BaseURL: cfg.WebBaseURL(), Org: cfg.Notice.Org,
		Hostname:    hostname,
		ExpireAfter: cfg.Quarantine.ExpireAfter, OnExpiry: ExpiryAction(cfg.Quarantine.OnExpiry),
		PurgeAfter: cfg.Quarantine.PurgeAfter,
	}
	for _, e := range cfg.OwnDomains {
		st.OwnDomains = append(st.OwnDomains, e.Name)
	}
	for _, e := range cfg.Quarantine.AlwaysAsk {
		st.AlwaysAsk = append(st.AlwaysAsk, e.Name)
	}
	var errs []error
	var err error
	if st.Reinject, err = smtpout.Load("quarantine.reinject", cfg.ReinjectDestination(), ""); err != nil {
		errs = append(errs, err)
	}
	notices, err := smtpout.Load("notice.smarthost", cfg.NoticeDestination(), hostname)
	if err != nil {
		errs = append(errs, err)
	}
	if notices.Address != "" {
		st.Notifier = &notice.Sender{Smarthost: notices}
	}
	return st, errors.Join(errs...)
}

// Apply puts new settings in force. Safe to call while the service runs.
func (s *Service) Apply(st Settings) {
	s.current.Store(&st)
	s.wake()
}

// settings returns the settings in force: the last applied, else the Settings field.
func (s *Service) settings() *Settings {
	if p := s.current.Load(); p != nil {
		return p
	}
	return &s.Settings
}

// ExpiryReturns reports whether a message nobody decided about goes back to its sender at
// expiry (quarantine.on_expiry: return) rather than being deleted.
func (s *Service) ExpiryReturns() bool { return s.settings().OnExpiry == ExpireReturn }
