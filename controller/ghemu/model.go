package ghemu

import (
	"crypto/rsa"
	"strings"
	"sync"
	"time"
)

// state is everything the emulator knows besides git content. Guarded by
// Server.mu.
type state struct {
	org        *account
	accounts   map[string]*account // lower-case login → user or org
	users      []*account
	tokens     map[string]*account // personal access tokens
	teams      map[string]*team    // lower-case slug
	repos      map[string]*repo    // lower-case "owner/name"
	repoList   []*repo
	app        *app
	instTokens map[string]*installationToken
	webhook    SeedWebhook
	nextID     int64
}

func newState() *state {
	return &state{
		accounts:   map[string]*account{},
		tokens:     map[string]*account{},
		teams:      map[string]*team{},
		repos:      map[string]*repo{},
		instTokens: map[string]*installationToken{},
		nextID:     10000,
	}
}

// newID returns a fresh id for reviews, comments, check runs and statuses.
func (st *state) newID() int64 {
	st.nextID++
	return st.nextID
}

// account is a user, an organisation or an App's bot user.
type account struct {
	login string
	id    int64
	name  string
	email string
	typ   string // "User", "Organization", "Bot"
	keys  []string
	token string
}

// commitEmail is the address put on commits this account makes.
func (a *account) commitEmail() string {
	if a.email != "" {
		return a.email
	}
	return itoa(a.id) + "+" + a.login + "@users.noreply.github.com"
}

// ownsEmail reports whether GitHub links a commit with email to this
// account: its own address, or either form of its noreply address
// ("ID+login@users.noreply.github.com", and the older
// "login@users.noreply.github.com"), which GitHub keeps linked.
func (a *account) ownsEmail(email string) bool {
	const noreply = "@users.noreply.github.com"
	return (a.email != "" && strings.EqualFold(a.email, email)) ||
		strings.EqualFold(itoa(a.id)+"+"+a.login+noreply, email) ||
		strings.EqualFold(a.login+noreply, email)
}

func (a *account) commitName() string {
	if a.name != "" {
		return a.name
	}
	return a.login
}

type team struct {
	id      int64
	slug    string
	name    string
	members []*account
	roles   map[string]string // login → member|maintainer
}

type repo struct {
	id            int64
	owner         *account
	name          string
	defaultBranch string
	private       bool
	readers       map[string]bool // lower-case logins with read-only access
	admins        map[string]bool // lower-case logins with the admin role
	protection    map[string]SeedProtection
	// allowAutoMerge is the repository setting allow_auto_merge: without
	// it, enablePullRequestAutoMerge is refused.
	allowAutoMerge bool
	created        time.Time
	pushed         time.Time
	git            *gitRepo

	issues     map[int]*issue
	nextNumber int
	checkRuns  []*checkRun
	// checkSuites are the App's check suites by head SHA (nil until the
	// first one); see checksuites.go.
	checkSuites map[string]*checkSuite
	statuses    map[string][]*commitStatus // by commit sha, oldest first

	// writeMu serialises every write to the git repository (pushes, merges,
	// API commits), so ref compare-and-swap and event order stay simple.
	writeMu sync.Mutex
	// autoMerging is set (under writeMu) while auto-merges are being tried,
	// so that a merge's own ref change does not start another pass inside
	// the running one (the running pass looks again after each merge).
	autoMerging bool
}

func (r *repo) fullName() string { return r.owner.login + "/" + r.name }

// issue is an issue number in a repository; every pull request is one.
type issue struct {
	number   int
	id       int64
	pr       *pull
	comments []*comment
	labels   []*label
}

type label struct {
	id    int64
	name  string
	color string
}

type pull struct {
	number         int
	id             int64
	title          string
	body           *string
	user           *account
	state          string // open | closed
	draft          bool
	headRef        string
	headSHA        string
	baseRef        string
	baseSHA        string // base tip when last updated; frozen at merge
	created        time.Time
	updated        time.Time
	closedAt       *time.Time
	mergedAt       *time.Time
	mergedBy       *account
	mergeCommitSHA string
	reviews        []*review
	stats          prStats
	// autoMerge is the pull request's auto-merge request, nil when it has
	// none. It stays on a pull request that auto-merge merged, as GitHub
	// keeps showing it.
	autoMerge *autoMerge
}

// autoMerge is an enabled auto-merge: who enabled it (the merge is made as
// them) and the merge to make.
type autoMerge struct {
	by      identity
	method  string  // merge | squash
	title   *string // commitHeadline; nil: GitHub's default
	message *string // commitBody; nil: GitHub's default
	enabled time.Time
}

type review struct {
	id          int64
	user        *account
	body        string
	state       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	commitID    string
	submittedAt *time.Time
}

type comment struct {
	id      int64
	user    *account
	body    string
	created time.Time
	updated time.Time
	viaApp  bool
}

type checkRun struct {
	id          int64
	name        string
	headSHA     string
	status      string
	conclusion  *string
	externalID  string
	detailsURL  *string
	startedAt   *time.Time
	completedAt *time.Time
	output      checkOutput
}

type checkOutput struct {
	Title            *string `json:"title"`
	Summary          *string `json:"summary"`
	Text             *string `json:"text"`
	AnnotationsCount int     `json:"annotations_count"`
}

type commitStatus struct {
	id          int64
	state       string
	context     string
	description *string
	targetURL   *string
	creator     *account
	created     time.Time
}

type app struct {
	seed           SeedApp
	id             int64
	slug           string
	name           string
	clientID       string
	key            *rsa.PrivateKey
	keyPEM         []byte
	installationID int64
	owner          *account
	repos          []*repo // empty: all repositories
	permissions    map[string]string
	events         []string
	bot            *account
}

// botAccount is the "<slug>[bot]" user the App's installation tokens act as.
func (a *app) botAccount() *account {
	if a.bot == nil {
		// GitHub's own bot address is "<id>+<slug>[bot]@users.noreply.github.com",
		// but "[" is not allowed in an unquoted e-mail local part and GitHub's
		// webhook schema asserts format "email" on commit authors; the
		// emulator drops the brackets so every push payload validates.
		a.bot = &account{login: a.slug + "[bot]", id: 9000000 + a.id, typ: "Bot", name: a.slug + "[bot]",
			email: itoa(9000000+a.id) + "+" + a.slug + "-bot@users.noreply.github.com"}
	}
	return a.bot
}

func (a *app) installed(r *repo) bool {
	if len(a.repos) == 0 {
		return r.owner == a.owner
	}
	for _, x := range a.repos {
		if x == r {
			return true
		}
	}
	return false
}

type installationToken struct {
	token       string
	expires     time.Time
	permissions map[string]string
	repos       []*repo // nil: every repository of the installation
}
