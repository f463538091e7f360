module github.com/rcptguard/rcptguard

go 1.26.8

require (
	github.com/emersion/go-smtp v0.25.1
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0
)

require github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
