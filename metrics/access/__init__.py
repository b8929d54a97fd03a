"""Who sees what: the sign-in policy file (policy) and the viewer it gives each user (viewer).
`from metrics.access import ...` reaches the viewer module's names."""

from metrics.access.viewer import (
    LOCAL_BANNER,
    MISCONFIGURED,
    NO_ENTRY,
    POLICY_ENV,
    AccessConfigError,
    NoAccess,
    T,
    Viewer,
    auth_configured,
    decide,
    local_viewer,
    log,
    login_provider,
    misconfigured,
    plain,
    policy_path,
    session_viewer,
    sign_in_screen,
    verified,
    viewer_from_grant,
)

__all__ = [
    "AccessConfigError", "LOCAL_BANNER", "MISCONFIGURED", "NO_ENTRY", "NoAccess", "POLICY_ENV",
    "T", "Viewer", "auth_configured", "decide", "local_viewer", "log", "login_provider",
    "misconfigured", "plain", "policy_path", "session_viewer", "sign_in_screen", "verified",
    "viewer_from_grant",
]
