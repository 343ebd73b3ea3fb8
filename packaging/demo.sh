#!/bin/sh
# demo.sh — the README's first command: `sudo packaging/demo.sh`.
#
# Builds saferoom and runs a demo safe room on 127.0.0.1:2222 in the
# foreground, so that each role can be tried with the real ssh client:
#
#   ./demo/data/       two synthetic datasets (a made-up cancer cohort with its
#                      treatments, and a lung screening cohort; no real people:
#                      generated from a fixed seed, the same bytes every time)
#   ./demo/state/      policy.db, audit.db, recordings, workspaces, host key
#   ./demo/keys/       ed25519 keys of alice and bob (researchers), carol
#                      (steward) and dave (auditor), owned by whoever ran sudo
#   ./demo/known_hosts the demo's host key, so ssh can check it
#
# Projects: onco-survival (alice, bob) with the cancer cohort, lung-screen
# (bob) with the screening cohort; each has a DRB reference and ends a year
# from the day the demo was made.
#
#   packaging/demo.sh [--fresh]     --fresh throws ./demo away and starts over;
#                                   otherwise an existing ./demo is reused
#
# For tests and side-by-side runs the defaults can be changed from the
# environment: SAFEROOM_DEMO_DIR (instead of ./demo), SAFEROOM_DEMO_PORT
# (instead of 2222), and SAFEROOM_DEMO_BUILDDIR: a tree already built, used
# as it is (nothing is installed or built).  Ctrl-C stops the gateway; every
# session ends with its audit events.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
DIR=${SAFEROOM_DEMO_DIR:-$top/demo}
PORT=${SAFEROOM_DEMO_PORT:-2222}
BUILD=${SAFEROOM_DEMO_BUILDDIR:-}
FRESH=0
USERS="alice bob carol dave"

say() { printf '%s\n' "demo.sh: $*" >&2; }
die() { say "$*"; exit 1; }

for arg in "$@"; do
	case $arg in
	--fresh) FRESH=1 ;;
	-h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $arg (usage: packaging/demo.sh [--fresh])" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "run as root: sudo packaging/demo.sh (saferoomd drops privileges per connection)"
case $PORT in ''|*[!0-9]*) die "SAFEROOM_DEMO_PORT must be a port number" ;; esac
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac

# ---- dependencies and the build ----------------------------------------------------------
build() {
	"$top/packaging/install-deps.sh" || die "installing dependencies failed"
	say "building in $top/build"
	(cd "$top" && autoreconf -fi >/dev/null) || die "autoreconf failed"
	mkdir -p "$top/build"
	(cd "$top/build" && "$top/configure" -q && make -s -j"$(nproc 2>/dev/null || echo 2)") ||
		die "the build failed"
	BUILD=$top/build
}
[ -n "$BUILD" ] || build
for p in saferoomd saferoomctl saferoom-audit-writer; do
	[ -x "$BUILD/$p" ] || die "$BUILD/$p is missing: is $BUILD a built tree?"
done
ctl() { "$BUILD/saferoomctl" -c "$DIR/saferoom.conf" "$@" >/dev/null; }

if ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
	die "port $PORT is in use (another demo running?); set SAFEROOM_DEMO_PORT to use another"
fi

# The system user the SSH-speaking child runs as.
if ! id saferoom >/dev/null 2>&1; then
	say "creating the system user saferoom"
	adduser --system --group --no-create-home --home /nonexistent saferoom >/dev/null
fi

# ---- the demo directory -----------------------------------------------------------------------
if [ "$FRESH" -eq 1 ] && [ -e "$DIR" ]; then
	# Only ever a directory this script made: it has our marker.
	[ -f "$DIR/.saferoom-demo" ] || die "$DIR exists and was not made by demo.sh; not removing it"
	say "removing $DIR (--fresh)"
	rm -rf "$DIR"
fi
if [ -e "$DIR" ] && [ ! -f "$DIR/.saferoom-demo" ]; then
	die "$DIR exists and was not made by demo.sh; remove it or set SAFEROOM_DEMO_DIR"
fi
mkdir -p "$DIR/keys" "$DIR/data"
: >"$DIR/.saferoom-demo"

# The configuration is written every time, so another port or a moved tree just works.
cat >"$DIR/saferoom.conf" <<CONF
# saferoom demo configuration (packaging/demo.sh); see packaging/saferoom.conf.
listen 127.0.0.1:$PORT
state_dir $DIR/state
host_key $DIR/state/host_key
audit_seal_interval 60
idle_timeout 1h
max_session 4h
CONF
chmod 600 "$DIR/saferoom.conf"

# ---- synthetic datasets ----------------------------------------------------------------------
make_data() {
	mkdir -p "$DIR/data/cancer_cohort" "$DIR/data/lung_screening"
	python3 - "$DIR/data" <<'PY'
# Synthetic: a fixed seed, made-up distributions, no real person behind any row.
import os, random, sys

out = sys.argv[1]
rng = random.Random(20261128)
SITES = [  # ICD-10, site, weight, sexes
    ("C16.9", "stomach", 14, "MF"), ("C18.7", "sigmoid colon", 8, "MF"),
    ("C18.2", "ascending colon", 5, "MF"), ("C20", "rectum", 7, "MF"),
    ("C22.0", "liver", 8, "MF"), ("C25.0", "pancreas head", 4, "MF"),
    ("C34.1", "lung upper lobe", 11, "MF"), ("C34.3", "lung lower lobe", 5, "MF"),
    ("C50.4", "breast", 13, "F"), ("C53.9", "cervix uteri", 3, "F"),
    ("C61", "prostate", 7, "M"), ("C73", "thyroid", 12, "MF"),
]
STAGES = ["I", "II", "III", "IV"]
REGIMENS = {
    "surgery": ["resection", "lobectomy", "mastectomy", "gastrectomy", "thyroidectomy"],
    "chemotherapy": ["FOLFOX", "XELOX", "carboplatin+paclitaxel", "AC-T", "gemcitabine"],
    "radiotherapy": ["IMRT 50.4 Gy", "SBRT 48 Gy", "whole breast 40 Gy"],
    "targeted": ["trastuzumab", "osimertinib", "bevacizumab", "sorafenib"],
    "immunotherapy": ["pembrolizumab", "atezolizumab", "nivolumab"],
}

def write(path, header, rows):
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")

ids = ["SYN-%06d" % n for n in rng.sample(range(100000, 999999), 3000)]
patients, treatments = [], []
weights = [s[2] for s in SITES]
for pid in ids:
    icd, site, _, sexes = rng.choices(SITES, weights)[0]
    sex = rng.choice(sexes)
    age = max(19, min(95, int(rng.gauss(63, 12))))
    year = rng.randint(2012, 2023)
    stage = rng.choices(STAGES, [35, 27, 22, 16])[0]
    months = min((2024 - year) * 12, int(rng.expovariate(1 / (140 - 30 * STAGES.index(stage)))))
    alive = "alive" if months >= (2024 - year) * 12 else rng.choice(["dead", "dead", "lost"])
    patients.append((pid, sex, age, year, icd, site, stage, alive, months))
    day = 0
    for line in range(1, rng.choice([1, 1, 2, 2, 3]) + 1):
        kind = rng.choice(list(REGIMENS))
        day += rng.randint(7, 120)
        treatments.append((pid, line, kind, rng.choice(REGIMENS[kind]), day, rng.randint(1, 8)))
write(os.path.join(out, "cancer_cohort", "patients.csv"),
      ["patient_id", "sex", "age_at_diagnosis", "diagnosis_year", "icd10", "site", "stage",
       "vital_status", "survival_months"], patients)
write(os.path.join(out, "cancer_cohort", "treatments.csv"),
      ["patient_id", "line", "treatment", "regimen", "start_day", "cycles"], treatments)

screens = []
for n in range(2400):
    sex = rng.choice("MMMF")
    packs = max(0, int(rng.gauss(32, 14)))
    rads = rng.choices(["1", "2", "3", "4A", "4B", "4X"], [30, 52, 9, 5, 3, 1])[0]
    found = 1 if rads in ("4B", "4X") and rng.random() < 0.6 or rads == "4A" and rng.random() < 0.1 else 0
    follow = {"1": "annual", "2": "annual", "3": "6 months", "4A": "3 months"}.get(rads, "biopsy")
    screens.append(("LS-%05d" % (n + 1), sex, rng.randint(50, 79), packs, rng.randint(2017, 2024),
                    rads, follow, found))
write(os.path.join(out, "lung_screening", "screening.csv"),
      ["screen_id", "sex", "age", "pack_years", "ldct_year", "lung_rads", "follow_up",
       "cancer_found"], screens)
for d in ("cancer_cohort", "lung_screening"):
    with open(os.path.join(out, d, "README.txt"), "w") as f:
        f.write("Synthetic data made by saferoom's packaging/demo.sh from a fixed seed.\n"
                "No row describes a real person.\n")
PY
}

# ---- people, keys, projects --------------------------------------------------------------------
make_keys() {
	for u in $USERS; do
		[ -f "$DIR/keys/$u" ] ||
			ssh-keygen -q -t ed25519 -N '' -C "$u@saferoom-demo" -f "$DIR/keys/$u"
	done
}

make_policy() {
	until_date=$(date -u -d '+1 year' +%Y-%m-%d)
	ctl init
	ctl user add alice --role researcher --key "$DIR/keys/alice.pub"
	ctl user add bob --role researcher --key "$DIR/keys/bob.pub"
	ctl user add carol --role steward --key "$DIR/keys/carol.pub"
	ctl user add dave --role auditor --key "$DIR/keys/dave.pub"
	ctl dataset add cancer_cohort "$DIR/data/cancer_cohort" \
		--description "synthetic cancer cohort: 3000 patients, their treatments"
	ctl dataset add lung_screening "$DIR/data/lung_screening" \
		--description "synthetic low-dose CT lung screening cohort"
	ctl project add onco-survival --drb-ref DRB-2026-014 --until "$until_date"
	ctl project grant onco-survival cancer_cohort
	ctl project member add onco-survival alice
	ctl project member add onco-survival bob
	ctl project add lung-screen --drb-ref DRB-2026-022 --until "$until_date"
	ctl project grant lung-screen lung_screening
	ctl project member add lung-screen bob
}

# .ready is written last: a room whose set-up was interrupted is made again.
if [ ! -f "$DIR/.ready" ]; then
	say "making the demo room in $DIR"
	rm -rf "$DIR/state"
	make_data
	make_keys
	make_policy
	: >"$DIR/.ready"
else
	say "reusing $DIR (packaging/demo.sh --fresh starts over)"
fi

# ssh checks the host key against this file, and the keys belong to the person behind sudo.
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(ssh-keygen -y -f "$DIR/state/host_key")" \
	>"$DIR/known_hosts"
if [ -n "${SUDO_UID:-}" ] && [ -n "${SUDO_GID:-}" ]; then
	chown "$SUDO_UID:$SUDO_GID" "$DIR/keys" "$DIR/keys"/* "$DIR/known_hosts"
fi

# ---- what to try --------------------------------------------------------------------------------
# Paths as typed from where the demo was started.
show=$DIR
case $DIR in "$(pwd)"/*) show=${DIR#"$(pwd)"/} ;; esac
S="ssh -p $PORT -o UserKnownHostsFile=$show/known_hosts -o IdentitiesOnly=yes"
cat <<TRY

saferoom demo on 127.0.0.1:$PORT  (state in $show/state; Ctrl-C stops it)

Researchers, a shell in the project sandbox (try: ls /data; head /data/cancer_cohort/patients.csv):
  $S -i $show/keys/alice alice@127.0.0.1
  $S -i $show/keys/bob bob+lung-screen@127.0.0.1
  $S -i $show/keys/bob bob@127.0.0.1                  (bob is in two projects: he is told to choose)
  $S -i $show/keys/alice alice@127.0.0.1 export list
Refused, and audited (try them):
  sftp -P $PORT -o UserKnownHostsFile=$show/known_hosts -i $show/keys/alice alice@127.0.0.1
  $S -i $show/keys/alice -L 8080:127.0.0.1:80 alice@127.0.0.1
Steward, the export review queue (or a saferoom> prompt without a command):
  $S -i $show/keys/carol carol@127.0.0.1 export list
  $S -i $show/keys/carol carol@127.0.0.1
Auditor, the trail:
  $S -i $show/keys/dave dave@127.0.0.1 audit sessions
  $S -i $show/keys/dave dave@127.0.0.1 audit events
  $S -i $show/keys/dave dave@127.0.0.1 audit verify
Admin, on this host:
  sudo $BUILD/saferoomctl -c $DIR/saferoom.conf project show onco-survival

TRY

SAFEROOM_AUDIT_WRITER=$BUILD/saferoom-audit-writer
export SAFEROOM_AUDIT_WRITER
# Not installed: the sandbox offers the built saferoom-export in /usr/local/bin.
SAFEROOM_EXPORT_BIN=$BUILD/saferoom-export
export SAFEROOM_EXPORT_BIN
exec "$BUILD/saferoomd" -f "$DIR/saferoom.conf" -D
