package scan

// The formats `rcptguard scan` recognises, in the order detection tries them: the mail
// logs first (their lines are the most particular), then the exports, then the archives.
// The forwards and aliases reader (AliasesFormat) is not among them: its Detect also
// takes a plain list of addresses, so it reads only what `scan --aliases` gives it.
func init() {
	Register(PostfixFormat)
	Register(EximFormat)
	Register(SendmailFormat)
	Register(M365Format)
	Register(ExchangeFormat)
	Register(WorkspaceFormat)
	Register(MboxFormat)
	eml := EMLFormat
	eml.Dir, eml.dirContent = ReadEMLDir, readEMLDir // a folder of messages
	Register(eml)
	Register(Format{Name: "maildir", DetectDir: IsMaildir, Dir: ReadMaildir, dirContent: readMaildir})
}
