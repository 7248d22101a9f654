/* Vietnamese titles give readable URL names (issue 19).
 *
 * CKAN's $.url.slugify maps each character through a fixed table and turns
 * every letter it does not know into "-": "Trường học" became "tru-ng-h-c".
 * Letters are first taken apart (Unicode NFD), their marks dropped and đ/Đ
 * written d/D, so "Trường học Bình Phước" gives "truong-hoc-binh-phuoc";
 * CKAN's own table then does the rest as before.
 */
(function ($) {
  if (!$ || !$.url || !$.url.slugify || $.url.slugify.binhphuoc) {
    return;
  }
  var slugify = $.url.slugify;
  function plain(text) {
    return String(text).normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/\u0111/g, 'd').replace(/\u0110/g, 'D');
  }
  $.url.slugify = function (text, trim) {
    return slugify.call($.url, plain(text), trim);
  };
  $.url.slugify.binhphuoc = true;
})(window.jQuery);
