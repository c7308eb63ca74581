package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"pacto/internal/api"
	"pacto/internal/console"
)

// The parties' identity providers are configured by environment, a group
// of variables per party, as PACTO_OIDC_<PARTY>_<SETTING>.
const oidcPrefix = "PACTO_OIDC_"

// oidcSettings are the settings of a provider.
var oidcSettings = []string{"ISSUER", "CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "MATCH_EMAIL", "PARTY"}

// oidcHelp is the part of --help on the providers.
const oidcHelp = `
Sign-in to the console through each party's OpenID Connect provider
(environment only; the provider sends people back to <public-url>/signin/callback):
  PACTO_OIDC_<PARTY>_ISSUER              the provider's issuer URL
  PACTO_OIDC_<PARTY>_CLIENT_ID           the console's client id at the provider
  PACTO_OIDC_<PARTY>_CLIENT_SECRET       its secret, or
  PACTO_OIDC_<PARTY>_CLIENT_SECRET_FILE  a file holding it
  PACTO_OIDC_<PARTY>_MATCH_EMAIL         true: a verified address finds an unlinked person (default false)
  PACTO_OIDC_<PARTY>_PARTY               the party's code, when <PARTY> cannot spell it (e.g. it has a '-')
`

// oidcProviders reads the providers from environ (NAME=value entries).
// Any mistake is the operator's, said with the variable's name and never
// a secret's value.
func oidcProviders(environ []string) ([]console.Provider, error) {
	groups := map[string]map[string]string{}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, oidcPrefix)
		if !ok {
			continue
		}
		key, setting := "", ""
		for _, s := range oidcSettings {
			if k, ok := strings.CutSuffix(rest, "_"+s); ok && k != "" && len(s) > len(setting) {
				key, setting = k, s
			}
		}
		if setting == "" {
			return nil, fmt.Errorf("%s is not a setting of an identity provider; use %s<PARTY>_%s: %w",
				name, oidcPrefix, strings.Join(oidcSettings, ", _"), errUsage)
		}
		if groups[key] == nil {
			groups[key] = map[string]string{}
		}
		groups[key][setting] = value
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []console.Provider
	for _, key := range keys {
		p, err := oidcProvider(key, groups[key])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, errUsage)
		}
		out = append(out, p)
	}
	if err := console.ValidateProviders(out); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errUsage)
	}
	return out, nil
}

func oidcProvider(key string, s map[string]string) (console.Provider, error) {
	v := func(setting string) string { return oidcPrefix + key + "_" + setting }
	p := console.Provider{Party: key, Issuer: strings.TrimSpace(s["ISSUER"]), ClientID: strings.TrimSpace(s["CLIENT_ID"])}
	if party, ok := s["PARTY"]; ok {
		p.Party = strings.TrimSpace(party)
	}
	if !api.IsPartyCode(p.Party) {
		return p, fmt.Errorf("%q is not a party code (1 to 16 capital letters, digits, '_' or '-', starting with a letter); set %s to the party's code", p.Party, v("PARTY"))
	}
	if p.Issuer == "" {
		return p, fmt.Errorf("%s is required with the other %s%s_ settings", v("ISSUER"), oidcPrefix, key)
	}
	if err := api.CheckIssuer(p.Issuer); err != nil {
		return p, fmt.Errorf("%s: %v", v("ISSUER"), err)
	}
	if p.ClientID == "" {
		return p, fmt.Errorf("%s is required with %s", v("CLIENT_ID"), v("ISSUER"))
	}
	secret, inline := s["CLIENT_SECRET"]
	file, fromFile := s["CLIENT_SECRET_FILE"]
	switch {
	case inline && fromFile:
		return p, fmt.Errorf("set %s or %s, not both", v("CLIENT_SECRET"), v("CLIENT_SECRET_FILE"))
	case fromFile:
		b, err := os.ReadFile(file)
		if err != nil {
			return p, fmt.Errorf("%s: %v", v("CLIENT_SECRET_FILE"), err)
		}
		// A secret file usually ends with a newline, which is no part of it.
		secret = strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return p, fmt.Errorf("%s: %s is empty", v("CLIENT_SECRET_FILE"), file)
		}
	case !inline || secret == "":
		return p, fmt.Errorf("%s or %s is required with %s", v("CLIENT_SECRET"), v("CLIENT_SECRET_FILE"), v("ISSUER"))
	}
	p.ClientSecret = secret
	if m, ok := s["MATCH_EMAIL"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(m))
		if err != nil {
			return p, fmt.Errorf("%s is %q; use true or false", v("MATCH_EMAIL"), m)
		}
		p.MatchEmail = b
	}
	return p, nil
}

// checkPublicURL checks the public URL the providers send people back to.
func checkPublicURL(publicURL string) error {
	if publicURL == "" {
		return fmt.Errorf("--public-url (PACTO_PUBLIC_URL) is required with identity providers: they send people back to <public-url>%s: %w", console.CallbackPath, errUsage)
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q is not an absolute http or https URL such as https://pacto.example.gov: %w", publicURL, errUsage)
	}
	return nil
}
