package dev.parley.api;

/** A caller's role in one workspace. */
public enum WorkspaceRole {
    /** May create conversations in the workspace and use their own. */
    MEMBER,
    /** A member who also sees and manages every conversation of the workspace. */
    ADMIN
}
