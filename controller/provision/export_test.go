package provision

import "context"

// WorkspacesDirect is Workspaces read straight from the backend's storage,
// with no fallback: its error says why direct reading failed.
func (m *Manager) WorkspacesDirect(ctx context.Context) ([]Workspace, error) {
	return m.directWorkspaces(ctx)
}

// WorkspacesByTerraform is Workspaces through terraform only.
func (m *Manager) WorkspacesByTerraform(ctx context.Context) ([]Workspace, error) {
	return m.terraformWorkspaces(ctx)
}

// DeleteWorkspacePG is the pg backend's direct workspace deletion.
func (m *Manager) DeleteWorkspacePG(ctx context.Context, ws string) (bool, error) {
	return m.pgDeleteWorkspace(ctx, ws)
}
