package build

import "strings"

// A file's documentation is the comment attached to its syntax (or
// edition) and package statements. What comes before the syntax statement
// separated by a blank line is the file's header, most often a license,
// and is left out (buildFile). A license attached to either statement, or
// detached before the package statement of a file without a syntax
// statement, is left out too: licenseHeader tells it by its words.

// licenseWords are phrases that license headers hold and documentation
// does not, lower case.
var licenseWords = []string{
	"copyright ",
	"copyright:",
	"spdx-license-identifier",
	"licensed under",
	"license, version",
	"permission is hereby granted",
	"all rights reserved",
}

// licenseHeader reports whether a comment is a license header.
func licenseHeader(s string) bool {
	if len(s) > 1<<16 {
		s = s[:1<<16]
	}
	l := strings.ToLower(s)
	for _, w := range licenseWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}
