// The attendance form: recounts the quorum as core members are ticked and deputies chosen
// (the "Check the quorum" button does the same on the server without JavaScript). The count
// is the number of different agencies among the ticked members and the members with a deputy.
(function () {
  'use strict'

  var form = document.querySelector('form[data-app-quorum]')
  var status = document.getElementById('quorum-status')
  if (!form || !status) {
    return
  }
  var needed = parseInt(status.getAttribute('data-needed'), 10) || 0

  function recount () {
    var agencies = {}
    var boxes = form.querySelectorAll('input[name="present"][data-agency]')
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) {
        agencies[boxes[i].getAttribute('data-agency')] = true
      }
    }
    var selects = form.querySelectorAll('select[data-agency]')
    for (var j = 0; j < selects.length; j++) {
      if (selects[j].value) {
        agencies[selects[j].getAttribute('data-agency')] = true
      }
    }
    var n = Object.keys(agencies).length
    var quorate = n >= needed
    status.textContent = (quorate ? 'Quorate' : 'Not quorate') + ': ' + n + ' ' +
      (n === 1 ? 'agency' : 'agencies') + ' present, ' + needed + ' needed.'
  }

  form.addEventListener('change', recount)
})()
