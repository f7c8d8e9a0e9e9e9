/*
 * The application's bundle: when the working directory has a Gemfile or
 * BUNDLE_GEMFILE names one, set it up (Bundler.setup, what "bundle exec"
 * does) right after the VM starts, before pitchfork's Ruby side requires
 * rack, so that the Gemfile decides every gem's version.  The Ruby half
 * is src/ruby/bundle.rb.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_BUNDLE_H
#define PITCHFORK_BUNDLE_H

/*
 * Set up the bundle, if there is one, in a VM that has just started.
 * Returns 0 (set up, or no Gemfile) or -1: the bundle cannot be set up
 * (a missing gem, a conflict, no rack in it, a broken Gemfile), logged
 * with the Gemfile's path and Bundler's reason.
 */
int bundle_setup(void);

/* What bundle_setup() set up ("bundle PATH set up: rack VERSION"), or
 * NULL when there was no bundle: for the mold's boot line. */
const char *bundle_summary(void);

#endif
