#!/bin/sh
# What a new Pacto needs before anyone can use it: the parties, their
# dialogue, a first admin and one API token for that admin, made with the
# pacto CLI after `pacto migrate`. Safe to run again: what exists is kept as
# it is, and the admin gets a token only when it has no live one, since a
# token's secret is printed once, when it is made.
#
# Input, from the environment:
#   PACTO_DATABASE_URL  the database, as for every pacto command
#   PACTO_BIN           the pacto binary (default: pacto on PATH)
#   BOOTSTRAP_PARTIES   one party a line: CODE;Name;IANA time zone;language
#   BOOTSTRAP_DIALOGUE  id;Name of the dialogue between all those parties
#   BOOTSTRAP_ADMIN     id;Name;email;language of the first admin
set -eu

pacto=${PACTO_BIN:-pacto}
: "${PACTO_DATABASE_URL:?is required}"
: "${BOOTSTRAP_PARTIES:?is required: one party a line, CODE;Name;Time/Zone;language}"
: "${BOOTSTRAP_DIALOGUE:?is required: id;Name}"
: "${BOOTSTRAP_ADMIN:?is required: id;Name;email;language}"

# ensure runs a pacto create command; an object that already exists is
# kept, any other failure stops the bootstrap.
ensure() {
	if out=$("$pacto" "$@" 2>&1); then
		printf '%s\n' "$out"
		return 0
	fi
	case $out in
	*"already exists"*)
		printf '%s: kept as it is\n' "${out#pacto * create: }"
		return 0
		;;
	esac
	printf '%s\n' "$out" >&2
	return 1
}

codes=
while IFS=';' read -r code name zone lang; do
	[ -n "$code" ] || continue
	ensure party create --code "$code" --name "$name" --time-zone "$zone" --language "${lang:-en}"
	codes=${codes:+$codes,}$code
done <<EOF
$BOOTSTRAP_PARTIES
EOF

IFS=';' read -r dialogue_id dialogue_name <<EOF
$BOOTSTRAP_DIALOGUE
EOF
ensure dialogue create --id "$dialogue_id" --name "$dialogue_name" --parties "$codes"

IFS=';' read -r admin_id admin_name admin_email admin_lang <<EOF
$BOOTSTRAP_ADMIN
EOF
ensure principal create --id "$admin_id" --roles admin --name "$admin_name" --email "$admin_email" --language "${admin_lang:-en}"

# A live token is a row of `pacto token list` whose last column (REVOKED)
# is "-".
tokens=$("$pacto" token list --principal "$admin_id")
live=$(printf '%s\n' "$tokens" | awk 'NR > 1 && $NF == "-" { print $1; exit }')
if [ -n "$live" ]; then
	echo "principal $admin_id already has a live token, $live, printed when it was made;" \
		"for a new one, revoke it (pacto token revoke $live) and run the bootstrap again"
else
	"$pacto" token create --principal "$admin_id" --name bootstrap
fi
echo "bootstrap done"
