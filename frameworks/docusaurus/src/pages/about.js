import Layout from '@theme/Layout';
import Heading from '@theme/Heading';
import Link from '@docusaurus/Link';

export default function About() {
  return (
    <Layout title="About" description="About this fixture site">
      <main className="container margin-vert--lg">
        <div id="about-page">
          <Heading as="h1">About</Heading>
          <p>A second route, reached client-side from the homepage.</p>
          <Link to="/">Back home</Link>
        </div>
      </main>
    </Layout>
  );
}
