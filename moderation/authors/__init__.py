"""The people behind the comments: standing, reputation, the policy's lists about them, and moderators' notes."""
