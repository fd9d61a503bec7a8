// The chat client for the bundled page; loaded from a file because the Content-Security-Policy forbids inline script.
