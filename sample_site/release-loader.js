// Writes the release label wherever a source says __RELEASE__, in JS and CSS alike: a build
// with SAMPLE_SITE_RELEASE=B differs from the default (A) in its entry JS, its CSS and every
// lazy chunk, which is what tests/test_rolling_deploy.py publishes over an open tab.
module.exports = function releaseLoader(source) {
  return source.replaceAll('__RELEASE__', this.getOptions().release);
};
