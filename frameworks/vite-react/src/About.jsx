import { Link } from 'react-router'

export default function About() {
  return (
    <section id="center">
      <div id="about-page">
        <h1>About</h1>
        <p>
          A second route, rendered client-side by <code>react-router</code>.
        </p>
      </div>
      <Link to="/" className="counter">
        Back home
      </Link>
    </section>
  )
}
