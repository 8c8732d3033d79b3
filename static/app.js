// LCSPR Tracker: loaded as a classic script at the very start of <body> (no inline script: the
// Content-Security-Policy forbids it). It marks the page as able to run GOV.UK Frontend before
// anything is painted, then starts GOV.UK Frontend and MOJ Frontend (both ES modules) once the
// page is parsed. Pages work without JavaScript; this only enhances them.
(function () {
  'use strict'

  var body = document.body
  body.classList.add('js-enabled')

  // GOV.UK Frontend 6 needs ES module support; without it the page stays unenhanced.
  if (!('noModule' in HTMLScriptElement.prototype)) {
    return
  }
  body.classList.add('govuk-frontend-supported')

  function start () {
    import('/static/govuk-frontend.min.js').then(function (govuk) {
      govuk.initAll()
    })
    import('/static/moj-frontend.min.js').then(function (moj) {
      moj.initAll()
    })
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start)
  } else {
    start()
  }
})()
