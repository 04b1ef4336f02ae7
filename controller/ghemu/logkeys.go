package ghemu

// Log attribute keys used by the emulator.
const (
	logKeyRepo         = "repo"
	logKeyPR           = "pr"
	logKeySHA          = "sha"
	logKeyLogin        = "login"
	logKeyState        = "state"
	logKeyInstallation = "installation_id"
	logKeyErr          = "err"
	logKeyMethod       = "method"
	logKeyPath         = "path"
)
