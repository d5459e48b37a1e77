// A deliberately ordinary webpack 5 production setup: webpack hashes what it bundles, while
// public/ is copied unhashed, leaving those files for assetpub to hash and rewrite.
const path = require('path');
const HtmlWebpackPlugin = require('html-webpack-plugin');
const MiniCssExtractPlugin = require('mini-css-extract-plugin');
const CopyWebpackPlugin = require('copy-webpack-plugin');
const { WebpackManifestPlugin } = require('webpack-manifest-plugin');

// The release label the sources carry (see release-loader.js); only letters and digits, so it
// can stand in a JS string and as a CSS value.
const release = process.env.SAMPLE_SITE_RELEASE || 'A';
if (!/^[A-Za-z0-9]+$/.test(release)) {
  throw new Error(`SAMPLE_SITE_RELEASE=${release}: letters and digits only`);
}
const releaseLoader = {
  loader: path.resolve(__dirname, 'release-loader.js'),
  options: { release },
};

module.exports = {
  mode: 'production',
  entry: { main: './src/index.js' },
  devtool: 'source-map',
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].[contenthash].js',
    chunkFilename: '[name].[contenthash].js',
    assetModuleFilename: 'assets/[name].[contenthash][ext]',
    publicPath: 'auto',
    clean: true,
  },
  module: {
    rules: [
      { test: /\.css$/i, use: [MiniCssExtractPlugin.loader, 'css-loader', releaseLoader] },
      { test: /\.js$/i, include: path.resolve(__dirname, 'src'), use: [releaseLoader] },
      { test: /\.(png|svg|jpe?g|gif|woff2?)$/i, type: 'asset/resource' },
    ],
  },
  plugins: [
    new MiniCssExtractPlugin({
      filename: '[name].[contenthash].css',
      chunkFilename: '[name].[contenthash].css',
    }),
    new HtmlWebpackPlugin({ template: './src/index.html' }),
    new WebpackManifestPlugin({ fileName: 'manifest.json' }),
    new CopyWebpackPlugin({ patterns: [{ from: 'public', to: '.' }] }),
  ],
};
