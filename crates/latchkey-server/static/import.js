// The CSV import's file picker (console/import.rs, users_import.html): reads the chosen
// file into the text area the form posts, so a file can be picked instead of pasted.
// Without JavaScript the picker stays hidden and the text area works alone.
(function () {
  'use strict';
  var picker = document.getElementById('import-file');
  var area = document.getElementById('import-csv');
  if (!picker || !area) return;
  picker.closest('.field').hidden = false;
  picker.addEventListener('change', function () {
    var file = picker.files && picker.files[0];
    if (!file) return;
    file.text().then(function (text) {
      area.value = text;
      area.focus();
    });
  });
})();
