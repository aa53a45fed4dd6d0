package main

// BrowserFigures are the SDK's figures in headless Chromium.
type BrowserFigures struct{}

func runBrowser(cfg config, r *Report) error { return nil }

func printBrowser(f *BrowserFigures) {}
