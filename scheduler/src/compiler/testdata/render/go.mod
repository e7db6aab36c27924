module drover.dev/compiler-render

go 1.19

require github.com/hashicorp/go-envparse v0.1.0

// Offline build: Debian's golang-github-hashicorp-go-envparse-dev ships the source here.
replace github.com/hashicorp/go-envparse => /usr/share/gocode/src/github.com/hashicorp/go-envparse
